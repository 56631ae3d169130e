//! The `formula` of a resource consumption record (ResFeeRecordV2): how the amount paid other
//! than by vouchers came about, in the documented shape for pay-per-use with simple pricing:
//! `{usage}【使用量】/{ratio}【单位转换】*{unit price}【单价】-{discount}【优惠金额】-{erase}【抹零金额】-{voucher}【代金券抵扣】`,
//! whose value is `amount − coupon_amount`.

use rust_decimal::Decimal;

use crate::domain::money::fen_to_string;

/// What a formula is made of: the usage in its own unit, the conversion factor to the price's
/// unit (`usage × num / den` units of the price), the unit price, and the record's amounts.
#[derive(Debug, Clone, Copy)]
pub struct FormulaParts {
    pub usage: Decimal,
    pub factor: (i128, i128),
    pub unit_price: Decimal,
    pub discount: Decimal,
    pub erase: Decimal,
    /// Paid by vouchers, in fen.
    pub coupon_fen: i64,
}

fn labels(english: bool) -> [&'static str; 6] {
    if english {
        [
            "[Usage]",
            "[Unit conversion]",
            "[Unit price]",
            "[Discount]",
            "[Rounding]",
            "[Voucher]",
        ]
    } else {
        [
            "【使用量】",
            "【单位转换】",
            "【单价】",
            "【优惠金额】",
            "【抹零金额】",
            "【代金券抵扣】",
        ]
    }
}

/// The ratio the usage is divided by: `den` when the factor is `1/den`, else `(den/num)`.
fn ratio(factor: (i128, i128)) -> String {
    let (num, den) = factor;
    if num == 1 {
        den.to_string()
    } else {
        format!("({den}/{num})")
    }
}

pub fn formula(p: &FormulaParts, english: bool) -> String {
    let [u, r, pr, d, e, c] = labels(english);
    format!(
        "{}{u}/{}{r}*{}{pr}-{}{d}-{}{e}-{}{c}",
        p.usage.normalize(),
        ratio(p.factor),
        p.unit_price.normalize(),
        p.discount.normalize(),
        p.erase.normalize(),
        fen_to_string(p.coupon_fen)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn a_tenth_of_an_hour_at_0_33335() {
        let p = FormulaParts {
            usage: d("0.1000000000"),
            factor: (1, 1),
            unit_price: d("0.33335000"),
            discount: d("0"),
            erase: d("0.003335"),
            coupon_fen: 1,
        };
        assert_eq!(
            formula(&p, false),
            "0.1【使用量】/1【单位转换】*0.33335【单价】-0【优惠金额】-0.003335【抹零金额】-0.01【代金券抵扣】"
        );
        assert_eq!(
            formula(&FormulaParts { factor: (1, 60), ..p }, true),
            "0.1[Usage]/60[Unit conversion]*0.33335[Unit price]-0[Discount]-0.003335[Rounding]-0.01[Voucher]"
        );
        assert_eq!(ratio((3600, 1)), "(1/3600)");
    }
}
