//! `cordon bisect`: delta debugging (Zeller's ddmin) over the rules that could fix a build, to
//! find the few that matter.

/// The smallest subset of `candidates` (indices) for which `fixes` holds, when it holds for all
/// of them; found with ddmin in a number of tests logarithmic in the candidates when one or a
/// few matter. `fixes` is called with a subset and answers whether applying only those rules
/// makes the run good. Returns None when even all of them do not fix it.
pub fn minimal_fix(n: usize, mut fixes: impl FnMut(&[usize]) -> bool) -> Option<Vec<usize>> {
    let all: Vec<usize> = (0..n).collect();
    if !fixes(&all) {
        return None;
    }
    let mut current = all;
    let mut granularity = 2usize;
    while current.len() >= 2 {
        let chunks = split(&current, granularity);
        let mut reduced = false;
        // Try each chunk alone (the fix lies in one part)...
        for c in &chunks {
            if fixes(c) {
                current = c.clone();
                granularity = 2;
                reduced = true;
                break;
            }
        }
        // ... then each complement (it needs more than one part).
        if !reduced && granularity > 2 {
            for i in 0..chunks.len() {
                let complement: Vec<usize> = chunks
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .flat_map(|(_, c)| c.iter().copied())
                    .collect();
                if fixes(&complement) {
                    current = complement;
                    granularity = (granularity - 1).max(2);
                    reduced = true;
                    break;
                }
            }
        }
        if !reduced {
            if granularity >= current.len() {
                break;
            }
            granularity = (granularity * 2).min(current.len());
        }
    }
    Some(current)
}

fn split(items: &[usize], n: usize) -> Vec<Vec<usize>> {
    let n = n.min(items.len()).max(1);
    let mut out = Vec::with_capacity(n);
    let mut start = 0;
    for i in 0..n {
        let end = start + (items.len() - start) / (n - i);
        out.push(items[start..end].to_vec());
        start = end;
    }
    out
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
                let bound = 2 * (usize::BITS - n.leading_zeros()) as usize + 2;
                assert!(runs <= bound, "n={n}: {runs} runs > {bound}");
            }
        }
    }

    #[test]
    fn two_culprits_are_both_kept() {
        let (found, _) = count_runs(32, &[3, 29]);
        assert_eq!(found, Some(vec![3, 29]));
    }

    #[test]
    fn no_fix_at_all() {
        assert_eq!(minimal_fix(10, |_| false), None);
    }
}
