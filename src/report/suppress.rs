//! The privacy rule of every report that leaves the terminal (and, by our
//! choice, of the terminal too: one rule everywhere is easier to trust).
//!
//! 1. Primary: a count between 1 and `min_cell - 1` is hidden.
//! 2. Secondary: for each line of cells bound by a linear relation (a row and
//!    its total, a column and the total row, stock at start + opened - closed
//!    = stock at end), a line with exactly one hidden cell would give it away
//!    by subtraction; so the smallest non-zero visible cell of that line is
//!    hidden too (a component before the total, since a total is never
//!    smaller than its parts). Repeated until no line has exactly one hidden
//!    cell, because each new hidden cell may expose another line.
//!
//! Small counts read `<3`; the cells hidden in step 2, and the amounts and
//! rates about a hidden count, read `X`.
//!
//! Zeros stay visible: "nobody" is not personal data, and a line whose other
//! cells are all zero has its total as the smallest non-zero cell.

use super::model::{Cell, Line, Role, Table};

/// Which cells to hide. `values[r][c]` is `Some(count)` for cells under the
/// rule and `None` for the others (names, money...); lines name cells by
/// (row, column). Pure: the unit tests below pin its behaviour.
pub fn mask(values: &[Vec<Option<i64>>], lines: &[Line], min_cell: i64) -> Vec<Vec<bool>> {
    let mut hidden: Vec<Vec<bool>> = values
        .iter()
        .map(|row| {
            row.iter()
                .map(|v| v.is_some_and(|n| n >= 1 && n < min_cell))
                .collect()
        })
        .collect();
    let value =
        |(r, c): (usize, usize)| values.get(r).and_then(|row| row.get(c)).copied().flatten();
    loop {
        let mut changed = false;
        for line in lines {
            let cells: Vec<(usize, usize)> = line
                .iter()
                .copied()
                .filter(|&rc| value(rc).is_some())
                .collect();
            let n_hidden = cells.iter().filter(|&&(r, c)| hidden[r][c]).count();
            if n_hidden != 1 {
                continue;
            }
            let pick = cells
                .iter()
                .filter(|&&(r, c)| !hidden[r][c])
                .filter_map(|&rc| value(rc).filter(|&v| v != 0).map(|v| (v, rc)))
                .min_by_key(|&(v, (r, c))| (v, r, c));
            if let Some((_, (r, c))) = pick {
                hidden[r][c] = true;
                changed = true;
            }
        }
        if !changed {
            return hidden;
        }
    }
}

/// Applies the rule to a table: counts per [`mask`], then the cells that
/// follow a hidden count (money, rates) in the same row.
pub fn apply(table: &mut Table, min_cell: i64) {
    let values: Vec<Vec<Option<i64>>> = table
        .rows
        .iter()
        .map(|row| {
            row.iter()
                .zip(&table.columns)
                .map(|(cell, col)| match col.role {
                    Role::Count { .. } => cell.count(),
                    _ => None,
                })
                .collect()
        })
        .collect();
    let hidden = mask(&values, &table.lines(), min_cell);
    for (r, row) in table.rows.iter_mut().enumerate() {
        let row_hidden = &hidden[r];
        for (c, cell) in row.iter_mut().enumerate() {
            let follows_hidden = match table.columns.get(c).map(|col| col.role) {
                Some(Role::Follows { of }) => row_hidden.get(of).copied().unwrap_or(false),
                _ => false,
            };
            if row_hidden.get(c).copied().unwrap_or(false) {
                // Only the small counts themselves read "<N"; a larger value
                // hidden to protect them must not claim to be small.
                let small = cell.count().is_some_and(|n| n >= 1 && n < min_cell);
                *cell = if small {
                    Cell::Suppressed
                } else {
                    Cell::Withheld
                };
            } else if follows_hidden {
                *cell = Cell::Withheld;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(rows: &[&[i64]]) -> Vec<Vec<Option<i64>>> {
        rows.iter()
            .map(|r| r.iter().map(|&v| Some(v)).collect())
            .collect()
    }

    /// Lines of a grid whose last row and last column are totals.
    fn total_lines(rows: usize, cols: usize) -> Vec<Line> {
        let mut lines = Vec::new();
        for r in 0..rows {
            lines.push((0..cols).map(|c| (r, c)).collect());
        }
        for c in 0..cols {
            lines.push((0..rows).map(|r| (r, c)).collect());
        }
        lines
    }

    #[test]
    fn small_counts_are_hidden_and_zero_and_threshold_are_not() {
        let m = mask(&grid(&[&[0, 1, 2, 3]]), &[], 3);
        assert_eq!(m, vec![vec![false, true, true, false]]);
        let m = mask(&grid(&[&[4, 5]]), &[], 6);
        assert_eq!(m, vec![vec![true, true]]);
    }

    #[test]
    fn a_single_hidden_cell_in_a_row_hides_the_smallest_other() {
        // 2 + 10 + 5 = 17: hiding only the 2 would leave 17 - 10 - 5.
        let values = grid(&[&[2, 10, 5, 17]]);
        let m = mask(&values, &[vec![(0, 0), (0, 1), (0, 2), (0, 3)]], 3);
        assert_eq!(m, vec![vec![true, false, true, false]]);
    }

    #[test]
    fn with_only_zeros_beside_it_the_total_is_hidden() {
        let values = grid(&[&[2, 0, 0, 2]]);
        let m = mask(&values, &[vec![(0, 0), (0, 1), (0, 2), (0, 3)]], 3);
        assert_eq!(m, vec![vec![true, false, false, true]]);
        let values = grid(&[&[0, 1, 7]]);
        // Impossible sum, but the rule must still hide a second cell.
        let m = mask(&values, &[vec![(0, 0), (0, 1), (0, 2)]], 3);
        assert_eq!(m, vec![vec![false, true, true]]);
    }

    #[test]
    fn secondary_suppression_cascades_across_rows_and_columns() {
        // rows: comuni + total; cols: two areas + total.
        let values = grid(&[&[1, 9, 10], &[6, 4, 10], &[7, 13, 20]]);
        let m = mask(&values, &total_lines(3, 3), 3);
        // Nothing can be derived: every line has 0 or >= 2 hidden cells.
        for line in total_lines(3, 3) {
            let n = line.iter().filter(|&&(r, c)| m[r][c]).count();
            assert!(n != 1, "line {line:?} has one hidden cell: {m:?}");
        }
        assert!(m[0][0]);
    }

    #[test]
    fn no_line_is_ever_left_with_one_hidden_cell() {
        // A small exhaustive sweep over 2x2 tables with totals.
        for a in 0..5 {
            for b in 0..5 {
                for c in 0..5 {
                    for d in 0..5 {
                        let values = grid(&[
                            &[a, b, a + b],
                            &[c, d, c + d],
                            &[a + c, b + d, a + b + c + d],
                        ]);
                        let lines = total_lines(3, 3);
                        let m = mask(&values, &lines, 3);
                        for line in &lines {
                            let hidden = line.iter().filter(|&&(r, c)| m[r][c]).count();
                            let nonzero_visible = line
                                .iter()
                                .filter(|&&(r, c)| !m[r][c] && values[r][c] != Some(0))
                                .count();
                            assert!(
                                hidden != 1 || nonzero_visible == 0,
                                "{values:?} -> {m:?} leaves {line:?}"
                            );
                        }
                        for (r, row) in values.iter().enumerate() {
                            for (c, v) in row.iter().enumerate() {
                                if matches!(v, Some(1..=2)) {
                                    assert!(m[r][c]);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn cells_outside_the_rule_are_never_touched() {
        let values = vec![vec![None, Some(1), Some(5), Some(6)]];
        let m = mask(&values, &[vec![(0, 0), (0, 1), (0, 2), (0, 3)]], 3);
        assert_eq!(m, vec![vec![false, true, true, false]]);
    }
}
