//! `cordon bisect`: delta debugging over the rules that could fix a build, to find the few
//! that matter.
//!
//! Applying more rules never undoes a fix (hiding one more file, unsetting one more variable
//! leaves the others hidden), so the culprits can be found one at a time by binary search over
//! prefixes of the candidate list, as QuickXplain does: about log2(n) runs per culprit, where
//! ddmin needs many more as soon as two culprits are needed together.

/// The smallest subset of `0..n` for which `fixes` holds, when it holds for all of them; None
/// when even all of them do not fix it. `fixes` is called with a subset and answers whether
/// applying only those rules makes the run good.
pub fn minimal_fix(n: usize, mut fixes: impl FnMut(&[usize]) -> bool) -> Option<Vec<usize>> {
    let mut remaining: Vec<usize> = (0..n).collect();
    if !fixes(&remaining) {
        return None;
    }
    let mut known: Vec<usize> = Vec::new();
    // Invariant: known together with remaining fixes it.
    while !remaining.is_empty() && !fixes(&known) {
        // The shortest prefix of remaining that, with known, still fixes it: its last element
        // is needed, and nothing after it is.
        let (mut lo, mut hi) = (1, remaining.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let mut trial = known.clone();
            trial.extend_from_slice(&remaining[..mid]);
            if fixes(&trial) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        known.push(remaining[lo - 1]);
        remaining.truncate(lo - 1);
    }
    known.sort_unstable();
    Some(known)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count_runs(n: usize, culprits: &[usize]) -> (Option<Vec<usize>>, usize) {
        let mut runs = 0;
        let found = minimal_fix(n, |s| {
            runs += 1;
            culprits.iter().all(|c| s.contains(c))
        });
        (found, runs)
    }

    #[test]
    fn one_culprit_in_logarithmic_runs() {
        for n in [1usize, 2, 5, 20, 64, 200] {
            for culprit in [0, n / 2, n - 1] {
                let (found, runs) = count_runs(n, &[culprit]);
                assert_eq!(found, Some(vec![culprit]), "n={n}");
                // One run with every rule, one per halving, one with nothing, one to confirm.
                let bound = (usize::BITS - n.leading_zeros()) as usize + 3;
                assert!(runs <= bound, "n={n}: {runs} runs > {bound}");
            }
        }
    }

    #[test]
    fn two_culprits_are_both_kept_in_logarithmic_runs() {
        let (found, runs) = count_runs(32, &[3, 29]);
        assert_eq!(found, Some(vec![3, 29]));
        assert!(runs <= 2 * 6 + 3, "{runs} runs");
        let (found, _) = count_runs(21, &[13, 20]);
        assert_eq!(found, Some(vec![13, 20]));
    }

    #[test]
    fn nothing_needed_when_it_already_works() {
        assert_eq!(minimal_fix(5, |_| true), Some(vec![]));
    }

    #[test]
    fn no_fix_at_all() {
        assert_eq!(minimal_fix(10, |_| false), None);
    }
}
