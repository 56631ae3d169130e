//! Rating: the one pure function that prices a usage quantity. Usage ingestion and the
//! on-demand price inquiry (`list_on_demand_resource_ratings`) both call [`rate`], so an
//! inquiry quotes exactly what a charge would cost.
//!
//! amount = usage converted to the price's unit × unit price, computed exactly with
//! `rust_decimal` (no floats, no rounding whenever the result has at most [`MAX_SCALE`] decimals —
//! always so for terminating unit conversions; a non-terminating one such as 1 minute at an hourly
//! price is rounded half-even at the 20th decimal); an optional customer-level discount rate lowers it;
//! the payable amount is truncated toward zero to the fen and the cut-off fraction is the
//! record's `erase_amount` (抹零). Identities: `official = discount + payable + erase` and
//! `official × rate = payable + erase`.

use rust_decimal::Decimal;

/// Decimals kept when a result does not terminate (a conversion dividing by 60, a discount rate
/// applied to such an amount); terminating results are never rounded.
pub const MAX_SCALE: u32 = 20;

fn bounded(x: Decimal) -> Decimal {
    if x.scale() > MAX_SCALE {
        x.round_dp(MAX_SCALE).normalize()
    } else {
        x.normalize()
    }
}

/// One measure-unit conversion row: `1 measure_id = ratio ref_measure_id`
/// (e.g. `(4, 6, 60)`: 1 hour = 60 minutes). Conversions are used in both directions and chained.
pub type Conversion = (i32, i32, i64);

/// The result of rating one usage quantity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rated {
    /// Usage (in the price's unit) × unit price, exact, before any discount.
    pub official_amount: Decimal,
    /// What the discount took off: `official − official × discount_rate` (0 without a discount).
    pub discount_amount: Decimal,
    /// `official − discount` truncated toward zero to the fen.
    pub payable_fen: i64,
    /// The cut-off fraction (抹零): `official − discount − payable`, in yuan, in `[0, 0.01)`.
    pub erase_amount: Decimal,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RatingError {
    #[error("usage must not be negative")]
    NegativeUsage,
    #[error("unit price must not be negative")]
    NegativePrice,
    #[error("discount rate must be greater than 0 and at most 1")]
    InvalidDiscountRate,
    #[error("measure unit {from} cannot be converted to measure unit {to}")]
    NoConversion { from: i32, to: i32 },
    #[error("amount out of range")]
    Overflow,
}

/// The exact factor `num / den` that turns a quantity in `from` into a quantity in `to`, found by a
/// breadth-first walk of the conversion graph (each row usable both ways); `None` if the units are
/// not connected.
pub fn conversion_factor(from: i32, to: i32, conversions: &[Conversion]) -> Option<(i128, i128)> {
    if from == to {
        return Some((1, 1));
    }
    // (measure, num, den): 1 `from` = num/den `measure`.
    let mut seen: Vec<i32> = vec![from];
    let mut queue: std::collections::VecDeque<(i32, i128, i128)> = [(from, 1, 1)].into();
    while let Some((at, num, den)) = queue.pop_front() {
        for &(m, r, ratio) in conversions {
            let ratio = i128::from(ratio);
            if ratio <= 0 {
                continue;
            }
            // 1 m = ratio r: going m → r multiplies by ratio, r → m divides by it.
            let step = if m == at {
                Some((r, num.checked_mul(ratio)?, den))
            } else if r == at {
                Some((m, num, den.checked_mul(ratio)?))
            } else {
                None
            };
            if let Some((next, n, d)) = step {
                if seen.contains(&next) {
                    continue;
                }
                let g = gcd(n, d);
                let (n, d) = (n / g, d / g);
                if next == to {
                    return Some((n, d));
                }
                seen.push(next);
                queue.push_back((next, n, d));
            }
        }
    }
    None
}

/// Whether a quantity in `from` can be expressed in `to`.
pub fn convertible(from: i32, to: i32, conversions: &[Conversion]) -> bool {
    conversion_factor(from, to, conversions).is_some()
}

/// Converts `quantity` from measure `from` to measure `to` (multiplication first, one division
/// last, so terminating results are exact).
pub fn convert(
    quantity: Decimal,
    from: i32,
    to: i32,
    conversions: &[Conversion],
) -> Result<Decimal, RatingError> {
    let (num, den) =
        conversion_factor(from, to, conversions).ok_or(RatingError::NoConversion { from, to })?;
    scale(quantity, num, den)
}

fn scale(x: Decimal, num: i128, den: i128) -> Result<Decimal, RatingError> {
    let num = Decimal::try_from_i128_with_scale(num, 0).map_err(|_| RatingError::Overflow)?;
    let den = Decimal::try_from_i128_with_scale(den, 0).map_err(|_| RatingError::Overflow)?;
    x.checked_mul(num)
        .and_then(|v| v.checked_div(den))
        .map(bounded)
        .ok_or(RatingError::Overflow)
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs().max(1)
}

/// Rates `usage` (measured in `usage_measure`) at `unit_price` yuan per one `price_measure`.
/// `discount_rate`, when given, is the customer-level discount in `(0, 1]` (payable = official ×
/// rate).
pub fn rate(
    usage: Decimal,
    usage_measure: i32,
    price_measure: i32,
    unit_price: Decimal,
    conversions: &[Conversion],
    discount_rate: Option<Decimal>,
) -> Result<Rated, RatingError> {
    if usage.is_sign_negative() && !usage.is_zero() {
        return Err(RatingError::NegativeUsage);
    }
    if unit_price.is_sign_negative() && !unit_price.is_zero() {
        return Err(RatingError::NegativePrice);
    }
    if let Some(r) = discount_rate {
        if r <= Decimal::ZERO || r > Decimal::ONE {
            return Err(RatingError::InvalidDiscountRate);
        }
    }
    let (num, den) = conversion_factor(usage_measure, price_measure, conversions).ok_or(
        RatingError::NoConversion {
            from: usage_measure,
            to: price_measure,
        },
    )?;
    // usage × price first, the unit conversion's division last.
    let priced = usage.checked_mul(unit_price).ok_or(RatingError::Overflow)?;
    let official = scale(priced, num, den)?;
    let discounted = bounded(match discount_rate {
        Some(r) => official.checked_mul(r).ok_or(RatingError::Overflow)?,
        None => official,
    });
    let discount_amount = (official - discounted).normalize();
    let fen = discounted
        .checked_mul(Decimal::ONE_HUNDRED)
        .ok_or(RatingError::Overflow)?
        .trunc();
    let payable_fen: i64 = fen.try_into().map_err(|_| RatingError::Overflow)?;
    let erase_amount = (discounted - Decimal::new(payable_fen, 2)).normalize();
    Ok(Rated {
        official_amount: official,
        discount_amount,
        payable_fen,
        erase_amount,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    /// The seeded conversions of migrations/0011_catalogue.sql.
    const SEED: &[Conversion] = &[
        (1, 2, 10),
        (2, 3, 10),
        (5, 4, 24),
        (4, 6, 60),
        (6, 7, 60),
        (14, 10, 1024),
        (10, 11, 1024),
        (11, 12, 1024),
        (12, 13, 1024),
        (16, 15, 10000),
        (17, 18, 1024),
    ];
    const HOUR: i32 = 4;
    const DAY: i32 = 5;
    const MINUTE: i32 = 6;
    const SECOND: i32 = 7;
    const GB: i32 = 10;
    const MB: i32 = 11;
    const TB: i32 = 14;
    const REQUEST: i32 = 15;
    const TEN_K_REQUESTS: i32 = 16;
    const GB_HOUR: i32 = 17;
    const MB_HOUR: i32 = 18;

    fn assert_identities(r: &Rated, rate: Option<Decimal>) {
        let discounted = r.official_amount * rate.unwrap_or(Decimal::ONE);
        let paid = Decimal::new(r.payable_fen, 2) + r.erase_amount;
        assert!(
            (discounted - paid).abs() <= Decimal::new(1, MAX_SCALE),
            "{discounted} vs {paid}"
        );
        assert!(r.official_amount.scale() <= MAX_SCALE && r.erase_amount.scale() <= MAX_SCALE);
        assert_eq!(
            r.official_amount,
            r.discount_amount + Decimal::new(r.payable_fen, 2) + r.erase_amount
        );
        assert!(r.erase_amount >= Decimal::ZERO && r.erase_amount < d("0.01"));
    }

    #[test]
    fn a_tenth_of_an_hour_at_0_33335_pays_3_fen_and_erases_the_rest() {
        let r = rate(d("0.1"), HOUR, HOUR, d("0.33335"), SEED, None).unwrap();
        assert_eq!(r.official_amount, d("0.033335"));
        assert_eq!(r.official_amount.to_string(), "0.033335");
        assert_eq!(r.payable_fen, 3);
        assert_eq!(r.erase_amount, d("0.003335"));
        assert_eq!(r.erase_amount.to_string(), "0.003335");
        assert_eq!(r.discount_amount, Decimal::ZERO);
        assert_identities(&r, None);
    }

    #[test]
    fn mb_hours_are_rated_at_a_gb_hour_price_and_back() {
        // 2048 MB·h at 0.5 per GB·h = 2 GB·h = 1.00.
        let r = rate(d("2048"), MB_HOUR, GB_HOUR, d("0.5"), SEED, None).unwrap();
        assert_eq!(r.official_amount, d("1"));
        assert_eq!(r.payable_fen, 100);
        assert_eq!(r.erase_amount, Decimal::ZERO);
        // 1 GB·h at 0.001 per MB·h = 1024 MB·h = 1.024.
        let r = rate(d("1"), GB_HOUR, MB_HOUR, d("0.001"), SEED, None).unwrap();
        assert_eq!(r.official_amount, d("1.024"));
        assert_eq!(r.payable_fen, 102);
        assert_eq!(r.erase_amount, d("0.004"));
        // 100 MB·h at 0.1 per GB·h: 100/1024 × 0.1 = 0.009765625 exactly.
        let r = rate(d("100"), MB_HOUR, GB_HOUR, d("0.1"), SEED, None).unwrap();
        assert_eq!(r.official_amount, d("0.009765625"));
        assert_eq!(r.payable_fen, 0);
        assert_eq!(r.erase_amount, d("0.009765625"));
        assert_identities(&r, None);
    }

    #[test]
    fn minutes_seconds_and_days_are_rated_at_an_hourly_price() {
        let r = rate(d("90"), MINUTE, HOUR, d("1.2"), SEED, None).unwrap();
        assert_eq!(r.official_amount, d("1.8"));
        assert_eq!(r.payable_fen, 180);
        // Two hops: seconds → minutes → hours.
        let r = rate(d("5400"), SECOND, HOUR, d("0.4"), SEED, None).unwrap();
        assert_eq!(r.official_amount, d("0.6"));
        // Up the chain: 2 days at 0.01 per minute = 2880 minutes = 28.80.
        let r = rate(d("2"), DAY, MINUTE, d("0.01"), SEED, None).unwrap();
        assert_eq!(r.official_amount, d("28.8"));
        assert_eq!(r.payable_fen, 2880);
        // A non-terminating fraction (1 minute of a 1.00/hour price) keeps the identities.
        let r = rate(d("1"), MINUTE, HOUR, d("1"), SEED, None).unwrap();
        assert_eq!(r.payable_fen, 1);
        assert!(r.official_amount > d("0.016666") && r.official_amount < d("0.016667"));
        assert_identities(&r, None);
    }

    #[test]
    fn requests_are_rated_per_ten_thousand() {
        // 25,000 requests at 0.01 per 10,000 = 0.025 → 2 fen, 0.005 erased.
        let r = rate(d("25000"), REQUEST, TEN_K_REQUESTS, d("0.01"), SEED, None).unwrap();
        assert_eq!(r.official_amount, d("0.025"));
        assert_eq!(r.payable_fen, 2);
        assert_eq!(r.erase_amount, d("0.005"));
        // And the other way: 3 × 10k requests at 0.00000150 per request.
        let r = rate(d("3"), TEN_K_REQUESTS, REQUEST, d("0.0000015"), SEED, None).unwrap();
        assert_eq!(r.official_amount, d("0.045"));
        assert_eq!(r.payable_fen, 4);
    }

    #[test]
    fn terabytes_to_gigabytes() {
        let r = rate(d("0.5"), TB, GB, d("0.8"), SEED, None).unwrap();
        assert_eq!(r.official_amount, d("409.6"));
        assert_eq!(r.payable_fen, 40960);
        let r = rate(d("1"), MB, GB, d("1024"), SEED, None).unwrap();
        assert_eq!(r.official_amount, d("1"));
    }

    #[test]
    fn a_discount_rate_lowers_the_payable_amount() {
        let rate8 = Some(d("0.8"));
        let r = rate(d("10"), HOUR, HOUR, d("1"), SEED, rate8).unwrap();
        assert_eq!(r.official_amount, d("10"));
        assert_eq!(r.discount_amount, d("2"));
        assert_eq!(r.payable_fen, 800);
        assert_eq!(r.erase_amount, Decimal::ZERO);
        let r = rate(d("0.1"), HOUR, HOUR, d("0.33335"), SEED, rate8).unwrap();
        // 0.033335 × 0.8 = 0.026668 → 2 fen, 0.006668 erased, 0.006667 discount.
        assert_eq!(r.payable_fen, 2);
        assert_eq!(r.erase_amount, d("0.006668"));
        assert_eq!(r.discount_amount, d("0.006667"));
        assert_identities(&r, rate8);
        let full = rate(d("3"), HOUR, HOUR, d("2"), SEED, Some(Decimal::ONE)).unwrap();
        assert_eq!(full.discount_amount, Decimal::ZERO);
        assert_eq!(full.payable_fen, 600);
    }

    #[test]
    fn zero_usage_and_zero_prices_cost_nothing() {
        let r = rate(Decimal::ZERO, HOUR, HOUR, d("3"), SEED, None).unwrap();
        assert_eq!((r.official_amount, r.payable_fen), (Decimal::ZERO, 0));
        let r = rate(d("7"), HOUR, HOUR, Decimal::ZERO, SEED, None).unwrap();
        assert_eq!((r.official_amount, r.payable_fen), (Decimal::ZERO, 0));
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert_eq!(
            rate(d("-1"), HOUR, HOUR, d("1"), SEED, None),
            Err(RatingError::NegativeUsage)
        );
        assert_eq!(
            rate(d("1"), HOUR, HOUR, d("-0.01"), SEED, None),
            Err(RatingError::NegativePrice)
        );
        for bad in ["0", "-0.5", "1.01"] {
            assert_eq!(
                rate(d("1"), HOUR, HOUR, d("1"), SEED, Some(d(bad))),
                Err(RatingError::InvalidDiscountRate)
            );
        }
        assert_eq!(
            rate(d("1"), GB, HOUR, d("1"), SEED, None),
            Err(RatingError::NoConversion { from: GB, to: HOUR })
        );
        assert_eq!(
            rate(d("1"), GB_HOUR, GB, d("1"), SEED, None),
            Err(RatingError::NoConversion {
                from: GB_HOUR,
                to: GB
            })
        );
        assert!(matches!(
            rate(Decimal::MAX, HOUR, HOUR, d("2"), SEED, None),
            Err(RatingError::Overflow)
        ));
    }

    #[test]
    fn conversion_helpers() {
        assert_eq!(conversion_factor(HOUR, SECOND, SEED), Some((3600, 1)));
        assert_eq!(conversion_factor(SECOND, DAY, SEED), Some((1, 86400)));
        assert_eq!(conversion_factor(GB, GB, SEED), Some((1, 1)));
        assert!(convertible(TB, 13, SEED));
        assert!(!convertible(REQUEST, GB, SEED));
        assert_eq!(convert(d("1.5"), HOUR, MINUTE, SEED), Ok(d("90")));
    }

    proptest::proptest! {
        #[test]
        fn identities_hold(usage in 0u64..10_000_000, uscale in 0u32..6, price in 0u64..100_000_000,
                           rate_pct in proptest::option::of(1u32..=100)) {
            let usage = Decimal::new(usage as i64, uscale);
            let price = Decimal::new(price as i64, 8);
            let rate_d = rate_pct.map(|p| Decimal::new(i64::from(p), 2));
            for (from, to) in [(HOUR, HOUR), (MINUTE, HOUR), (MB_HOUR, GB_HOUR), (REQUEST, TEN_K_REQUESTS)] {
                let r = rate(usage, from, to, price, SEED, rate_d).unwrap();
                assert_identities(&r, rate_d);
            }
        }
    }
}
