//! Money. Amounts are yuan with at most two decimals on the wire and integer fen (cents) in the
//! database; floats never touch them.

use rust_decimal::Decimal;

/// Upper bound for a single amount: the vendor's `(0, 2147483647]` money range.
pub const MAX_AMOUNT_YUAN: i64 = 2_147_483_647;

/// A positive amount of yuan with at most two decimals, held as integer fen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(i64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AmountError {
    #[error("must be greater than 0")]
    NotPositive,
    #[error("must have at most 2 decimal places")]
    TooPrecise,
    #[error("must not exceed 2147483647")]
    TooLarge,
}

impl Amount {
    /// Parses a wire amount: > 0, at most 2 decimal places, at most 2147483647 yuan.
    pub fn from_yuan(d: Decimal) -> Result<Self, AmountError> {
        if d <= Decimal::ZERO {
            return Err(AmountError::NotPositive);
        }
        if d > Decimal::from(MAX_AMOUNT_YUAN) {
            return Err(AmountError::TooLarge);
        }
        let fen = d * Decimal::ONE_HUNDRED;
        if fen.fract() != Decimal::ZERO {
            return Err(AmountError::TooPrecise);
        }
        let fen: i64 = fen.trunc().try_into().map_err(|_| AmountError::TooLarge)?;
        Ok(Amount(fen))
    }

    pub fn from_fen(fen: i64) -> Result<Self, AmountError> {
        if fen <= 0 {
            return Err(AmountError::NotPositive);
        }
        Ok(Amount(fen))
    }

    pub fn fen(self) -> i64 {
        self.0
    }

    pub fn yuan(self) -> Decimal {
        fen_to_yuan(self.0)
    }
}

/// Integer fen → yuan with exactly two decimals (`1050` → `10.50`).
pub fn fen_to_yuan(fen: i64) -> Decimal {
    Decimal::new(fen, 2)
}

/// Integer fen → the contract's decimal-string form (`"10.50"`).
pub fn fen_to_string(fen: i64) -> String {
    format!("{:.2}", fen_to_yuan(fen))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn amounts_follow_the_contract() {
        assert_eq!(Amount::from_yuan(d("10.00")).unwrap().fen(), 1000);
        assert_eq!(Amount::from_yuan(d("0.01")).unwrap().fen(), 1);
        assert_eq!(Amount::from_yuan(d("12.3")).unwrap().fen(), 1230);
        assert_eq!(Amount::from_yuan(d("12.345")), Err(AmountError::TooPrecise));
        assert_eq!(Amount::from_yuan(d("12.3400")).unwrap().fen(), 1234);
        assert_eq!(Amount::from_yuan(d("0")), Err(AmountError::NotPositive));
        assert_eq!(Amount::from_yuan(d("-1")), Err(AmountError::NotPositive));
        assert_eq!(
            Amount::from_yuan(d("2147483647")).unwrap().fen(),
            214_748_364_700
        );
        assert_eq!(
            Amount::from_yuan(d("2147483647.01")),
            Err(AmountError::TooLarge)
        );
        assert_eq!(fen_to_string(1050), "10.50");
        assert_eq!(fen_to_string(-5), "-0.05");
        assert_eq!(fen_to_yuan(100).to_string(), "1.00");
    }
}
