// `sqlx::migrate!` embeds `migrations/` at compile time: rebuild when a migration is added or
// changed, even if no Rust file changed (sqlx's own advice).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
