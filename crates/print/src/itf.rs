//! Interleaved 2 of 5, the symbology of the barcode Russian Post prints for a
//! 14-digit tracking number (ШПИ), so that a counter scanner can read ours too.

/// Narrow and wide elements per digit; `true` is wide.
const DIGITS: [[bool; 5]; 10] = {
    const N: bool = false;
    const W: bool = true;
    [
        [N, N, W, W, N],
        [W, N, N, N, W],
        [N, W, N, N, W],
        [W, W, N, N, N],
        [N, N, W, N, W],
        [W, N, W, N, N],
        [N, W, W, N, N],
        [N, N, N, W, W],
        [W, N, N, W, N],
        [N, W, N, W, N],
    ]
};

/// A wide element is three narrow ones: the ratio scanners tolerate best.
const WIDE: u32 = 3;

/// The silent margin a scanner needs on each side, in narrow modules.
pub(crate) const QUIET_ZONE: u32 = 10;

/// The bars of `digits` as `(offset, width)` in narrow modules, and the total
/// width; `None` unless the input is a non-empty even number of ASCII digits,
/// the only thing the symbology can carry.
pub(crate) fn bars(digits: &str) -> Option<(Vec<(u32, u32)>, u32)> {
    let values: Vec<usize> = digits
        .chars()
        .map(|c| c.to_digit(10).map(|d| d as usize))
        .collect::<Option<_>>()?;
    if values.is_empty() || !values.len().is_multiple_of(2) {
        return None;
    }
    let mut elements: Vec<u32> = vec![1, 1, 1, 1];
    let width = |wide: bool| if wide { WIDE } else { 1 };
    // The first digit of a pair is told by the bars, the second by the spaces between them.
    for pair in values.chunks_exact(2) {
        for (bar, space) in DIGITS[pair[0]].iter().zip(&DIGITS[pair[1]]) {
            elements.extend([width(*bar), width(*space)]);
        }
    }
    elements.extend([WIDE, 1, 1]);

    // Elements alternate bar, space, bar, … starting with a bar.
    let mut out = Vec::new();
    let mut at = 0;
    for (i, width) in elements.iter().enumerate() {
        if i % 2 == 0 {
            out.push((at, *width));
        }
        at += width;
    }
    Some((out, at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fourteen_digits_make_the_expected_symbol() {
        let (bars, total) = bars("10200012000017").expect("valid");
        // Start (4) + 7 pairs × 18 + stop (5).
        assert_eq!(total, 4 + 7 * 18 + 5);
        // Start, 7 pairs × 5 bars, stop.
        assert_eq!(bars.len(), 2 + 35 + 2);
        assert_eq!(&bars[..2], &[(0, 1), (2, 1)]);
        let last = bars[bars.len() - 1];
        assert_eq!(last.0 + last.1, total);
        // Pair "10": bars from 1 = W N N N W, spaces from 0 = N N W W N.
        assert_eq!(&bars[2..7], &[(4, 3), (8, 1), (10, 1), (14, 1), (18, 3)]);
    }

    #[test]
    fn rejects_what_cannot_be_encoded() {
        assert!(bars("").is_none());
        assert!(bars("123").is_none());
        assert!(bars("12a4").is_none());
        assert!(bars("١٢").is_none(), "only ASCII digits");
    }
}
