//! The partner bill (posted snapshots over `bill_sum`) and invoices (issue 11).

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, Postgres, QueryBuilder};

/// One line of a partner bill (fen): a service type, charging mode and summary bill type of one
/// origin cycle. `amount` is what was paid from partner-allocated funds (payable − coupons −
/// stored-value cards).
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BillLine {
    pub origin_cycle: NaiveDate,
    pub service_type_code: String,
    pub charging_mode: i16,
    pub bill_type: i16,
    pub payable: i64,
    pub coupon: i64,
    pub cash_coupon: i64,
    pub card: i64,
    pub cash: i64,
    pub credit: i64,
    pub debt: i64,
    pub writeoff: i64,
    pub amount: i64,
}

/// The live sums of the partner's resale customers' consumption in `cycles`, per line.
pub async fn live_lines(
    conn: &mut PgConnection,
    partner_id: &str,
    cycles: &[NaiveDate],
) -> sqlx::Result<Vec<BillLine>> {
    sqlx::query_as(
        "select cycle as origin_cycle, service_type_code, charging_mode, bill_type,
                sum(payable)::bigint as payable, sum(coupon)::bigint as coupon,
                sum(cash_coupon)::bigint as cash_coupon, sum(card)::bigint as card,
                sum(cash)::bigint as cash, sum(credit)::bigint as credit,
                sum(debt)::bigint as debt, sum(writeoff)::bigint as writeoff,
                sum(payable - coupon - cash_coupon - card)::bigint as amount
         from bill_sum
         where partner_id = $1 and cycle = any($2) and association_type = 2
         group by cycle, service_type_code, charging_mode, bill_type
         order by cycle, service_type_code, charging_mode, bill_type",
    )
    .bind(partner_id)
    .bind(cycles)
    .fetch_all(conn)
    .await
}

/// The first cycle the partner's customers consumed in (resale).
pub async fn first_cycle(
    conn: &mut PgConnection,
    partner_id: &str,
) -> sqlx::Result<Option<NaiveDate>> {
    sqlx::query_scalar(
        "select min(cycle) from bill_sum where partner_id = $1 and association_type = 2",
    )
    .bind(partner_id)
    .fetch_one(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PostedBill {
    pub cycle: NaiveDate,
    pub posted_at: DateTime<Utc>,
    pub amount: i64,
}

pub async fn posted_bills(
    conn: &mut PgConnection,
    partner_id: &str,
) -> sqlx::Result<Vec<PostedBill>> {
    sqlx::query_as(
        "select cycle, posted_at, amount from partner_bill where partner_id = $1 order by cycle",
    )
    .bind(partner_id)
    .fetch_all(conn)
    .await
}

/// The snapshot lines of a posted cycle (`by_origin` = false) or every snapshot line whose
/// origin is one of `cycles` (`by_origin` = true).
pub async fn snapshot_lines(
    conn: &mut PgConnection,
    partner_id: &str,
    cycles: &[NaiveDate],
    by_origin: bool,
) -> sqlx::Result<Vec<BillLine>> {
    let col = if by_origin { "origin_cycle" } else { "cycle" };
    sqlx::query_as(&format!(
        "select origin_cycle, service_type_code, charging_mode, bill_type, payable, coupon,
                cash_coupon, card, cash, credit, debt, writeoff, amount
         from partner_bill_line where partner_id = $1 and {col} = any($2) order by id"
    ))
    .bind(partner_id)
    .bind(cycles)
    .fetch_all(conn)
    .await
}

/// Writes a posted bill and its lines (never changed afterwards).
pub async fn insert_posted(
    conn: &mut PgConnection,
    partner_id: &str,
    cycle: NaiveDate,
    at: DateTime<Utc>,
    lines: &[BillLine],
) -> sqlx::Result<()> {
    let amount: i64 = lines.iter().map(|l| l.amount).sum();
    sqlx::query(
        "insert into partner_bill (partner_id, cycle, posted_at, amount) values ($1, $2, $3, $4)",
    )
    .bind(partner_id)
    .bind(cycle)
    .bind(at)
    .bind(amount)
    .execute(&mut *conn)
    .await?;
    if lines.is_empty() {
        return Ok(());
    }
    let mut qb: QueryBuilder<'_, Postgres> = QueryBuilder::new(
        "insert into partner_bill_line (partner_id, cycle, origin_cycle, service_type_code,
         charging_mode, bill_type, payable, coupon, cash_coupon, card, cash, credit, debt,
         writeoff, amount) ",
    );
    qb.push_values(lines, |mut b, l| {
        b.push_bind(partner_id.to_string())
            .push_bind(cycle)
            .push_bind(l.origin_cycle)
            .push_bind(l.service_type_code.clone())
            .push_bind(l.charging_mode)
            .push_bind(l.bill_type)
            .push_bind(l.payable)
            .push_bind(l.coupon)
            .push_bind(l.cash_coupon)
            .push_bind(l.card)
            .push_bind(l.cash)
            .push_bind(l.credit)
            .push_bind(l.debt)
            .push_bind(l.writeoff)
            .push_bind(l.amount);
    });
    qb.build().execute(conn).await?;
    Ok(())
}

/// Serialises the posting of one partner's bills (transaction-scoped).
pub async fn lock_posting(conn: &mut PgConnection, partner_id: &str) -> sqlx::Result<()> {
    sqlx::query("select pg_advisory_xact_lock(hashtextextended('partner_bill:' || $1, 0))")
        .bind(partner_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Cycles covered by a live (not revoked/returned) invoice of the partner.
pub async fn invoiced_cycles(
    conn: &mut PgConnection,
    partner_id: &str,
) -> sqlx::Result<Vec<NaiveDate>> {
    sqlx::query_scalar(
        "select cycle from invoice_item where partner_id = $1 and active order by cycle",
    )
    .bind(partner_id)
    .fetch_all(conn)
    .await
}

/// 欠票: what refunds and adjustments booked in cycles that are not invoiced gave back of charges
/// made in invoiced cycles (fen, ≥ 0).
pub async fn refunds_of_invoiced(
    conn: &mut PgConnection,
    partner_id: &str,
    invoiced: &[NaiveDate],
) -> sqlx::Result<i64> {
    let Some(first) = invoiced.iter().min().copied() else {
        return Ok(0);
    };
    sqlx::query_scalar(
        "with customers as (
             select distinct customer_id from bill_sum
             where partner_id = $1 and cycle = any($2) and association_type = 2
         )
         select coalesce(sum(-(r.payable - r.coupon - r.cash_coupon - r.card)), 0)::bigint
         from customers c
         join fee_record r on r.customer_id = c.customer_id and r.cycle >= $3
                          and r.original_id is not null and r.partner_id = $1
                          and r.association_type = 2 and not (r.cycle = any($2))
         join fee_record o on o.id = r.original_id and o.cycle = any($2)",
    )
    .bind(partner_id)
    .bind(invoiced)
    .bind(first)
    .fetch_one(conn)
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InvoiceRow {
    pub id: String,
    pub partner_id: String,
    pub operator_id: String,
    pub invoice_type: String,
    pub medium: String,
    pub title_type: String,
    pub title: String,
    pub tax_id: Option<String>,
    pub address: Option<String>,
    pub amount: i64,
    pub status: String,
    pub invoice_no: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const INVOICE_COLUMNS: &str = "id, partner_id, operator_id, invoice_type, medium, title_type,
    title, tax_id, address, amount, status, invoice_no, created_at, updated_at";

pub async fn insert_invoice(
    conn: &mut PgConnection,
    i: &InvoiceRow,
    cycles: &[(NaiveDate, i64)],
) -> sqlx::Result<()> {
    sqlx::query(&format!(
        "insert into invoice ({INVOICE_COLUMNS}) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
         $11, $12, $13, $14)"
    ))
    .bind(&i.id)
    .bind(&i.partner_id)
    .bind(&i.operator_id)
    .bind(&i.invoice_type)
    .bind(&i.medium)
    .bind(&i.title_type)
    .bind(&i.title)
    .bind(&i.tax_id)
    .bind(&i.address)
    .bind(i.amount)
    .bind(&i.status)
    .bind(&i.invoice_no)
    .bind(i.created_at)
    .bind(i.updated_at)
    .execute(&mut *conn)
    .await?;
    for (cycle, amount) in cycles {
        sqlx::query(
            "insert into invoice_item (invoice_id, partner_id, cycle, amount) values ($1, $2, $3, $4)",
        )
        .bind(&i.id)
        .bind(&i.partner_id)
        .bind(cycle)
        .bind(amount)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

pub async fn lock_invoice(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<InvoiceRow>> {
    sqlx::query_as(&format!(
        "select {INVOICE_COLUMNS} from invoice where id = $1 for update"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
}

pub async fn find_invoice(
    conn: &mut PgConnection,
    id: &str,
    partner_id: &str,
) -> sqlx::Result<Option<InvoiceRow>> {
    sqlx::query_as(&format!(
        "select {INVOICE_COLUMNS} from invoice where id = $1 and partner_id = $2"
    ))
    .bind(id)
    .bind(partner_id)
    .fetch_optional(conn)
    .await
}

pub async fn invoice_cycles(
    conn: &mut PgConnection,
    invoice_id: &str,
) -> sqlx::Result<Vec<(NaiveDate, i64)>> {
    sqlx::query_as("select cycle, amount from invoice_item where invoice_id = $1 order by cycle")
        .bind(invoice_id)
        .fetch_all(conn)
        .await
}

/// Moves an invoice to `status`; a revoked or returned one releases its cycles.
pub async fn set_invoice_status(
    conn: &mut PgConnection,
    id: &str,
    status: &str,
    invoice_no: Option<&str>,
    release: bool,
    at: DateTime<Utc>,
) -> sqlx::Result<InvoiceRow> {
    if release {
        sqlx::query("update invoice_item set active = false where invoice_id = $1")
            .bind(id)
            .execute(&mut *conn)
            .await?;
    }
    sqlx::query_as(&format!(
        "update invoice set status = $2, invoice_no = coalesce($3, invoice_no), updated_at = $4
         where id = $1 returning {INVOICE_COLUMNS}"
    ))
    .bind(id)
    .bind(status)
    .bind(invoice_no)
    .bind(at)
    .fetch_one(conn)
    .await
}

pub async fn list_invoices(
    conn: &mut PgConnection,
    partner_id: &str,
    status: Option<&str>,
    offset: i64,
    limit: i64,
) -> sqlx::Result<(i64, Vec<InvoiceRow>)> {
    let eq = [("status", status)];
    super::money_out::page(
        conn,
        "invoice",
        INVOICE_COLUMNS,
        "",
        partner_id,
        &eq,
        offset,
        limit,
    )
    .await
}
