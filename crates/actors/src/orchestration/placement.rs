//! Which idle worker runs a ready bead: the distribution strategy and
//! affinity. Pure: no I/O, no clock.

/// How ready beads are ordered and workers chosen.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Distribution {
    /// Beads in the order they became ready; the first idle worker.
    #[default]
    Fifo,
    /// Beads by task priority (higher first), then in order; the first
    /// idle worker.
    Priority,
    /// Beads in order; idle workers taken in rotation, so work spreads
    /// over the whole pool.
    RoundRobin,
}

/// How a task's `affinity = "label"` binds it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum AffinityMode {
    /// Only a worker with the label runs it; it waits for one.
    #[default]
    Hard,
    /// A worker with the label is preferred; any idle worker will do.
    Soft,
}

/// A worker as placement sees it.
#[derive(Clone, Copy, Debug)]
pub struct Candidate<'a> {
    /// Its labels.
    pub labels: &'a [String],
    /// Whether it runs a bead now.
    pub busy: bool,
}

/// The placement policy and its round-robin cursor.
#[derive(Clone, Debug, Default)]
pub struct Placement {
    distribution: Distribution,
    affinity: AffinityMode,
    cursor: usize,
}

impl Placement {
    /// A policy.
    pub fn new(distribution: Distribution, affinity: AffinityMode) -> Self {
        Self {
            distribution,
            affinity,
            cursor: 0,
        }
    }

    /// The strategy.
    pub fn distribution(&self) -> Distribution {
        self.distribution
    }

    /// How a task's affinity binds it.
    pub fn affinity(&self) -> AffinityMode {
        self.affinity
    }

    /// The idle worker to run a bead with `affinity`, if any may.
    pub fn pick(&mut self, workers: &[Candidate<'_>], affinity: Option<&str>) -> Option<usize> {
        let n = workers.len();
        if n == 0 {
            return None;
        }
        let start = match self.distribution {
            Distribution::RoundRobin => self.cursor % n,
            Distribution::Fifo | Distribution::Priority => 0,
        };
        let order = (0..n).map(|k| (start + k) % n);
        let idle = |i: &usize| workers.get(*i).is_some_and(|w| !w.busy);
        let labelled = |i: &usize, label: &str| {
            workers
                .get(*i)
                .is_some_and(|w| w.labels.iter().any(|l| l == label))
        };
        let chosen = match (affinity, self.affinity) {
            (None, _) => order.clone().find(idle),
            (Some(label), AffinityMode::Hard) => {
                order.clone().find(|i| idle(i) && labelled(i, label))
            }
            (Some(label), AffinityMode::Soft) => order
                .clone()
                .find(|i| idle(i) && labelled(i, label))
                .or_else(|| order.clone().find(idle)),
        };
        if let Some(i) = chosen {
            self.cursor = i + 1;
        }
        chosen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pool(labels: &[&[&str]], busy: &[usize]) -> Vec<(Vec<String>, bool)> {
        labels
            .iter()
            .enumerate()
            .map(|(i, l)| {
                (
                    l.iter().map(|s| (*s).to_owned()).collect(),
                    busy.contains(&i),
                )
            })
            .collect()
    }

    fn view(pool: &[(Vec<String>, bool)]) -> Vec<Candidate<'_>> {
        pool.iter()
            .map(|(labels, busy)| Candidate {
                labels,
                busy: *busy,
            })
            .collect()
    }

    #[test]
    fn given_fifo_when_picking_then_the_first_idle_worker_always() {
        let workers = pool(&[&[], &[], &[]], &[0]);
        let mut p = Placement::new(Distribution::Fifo, AffinityMode::Hard);
        assert_eq!(p.pick(&view(&workers), None), Some(1));
        assert_eq!(p.pick(&view(&workers), None), Some(1));
    }

    #[test]
    fn given_round_robin_when_picking_repeatedly_then_workers_rotate() {
        let workers = pool(&[&[], &[], &[]], &[]);
        let mut p = Placement::new(Distribution::RoundRobin, AffinityMode::Hard);
        let picks: Vec<_> = (0..5).map(|_| p.pick(&view(&workers), None)).collect();
        assert_eq!(picks, [Some(0), Some(1), Some(2), Some(0), Some(1)]);
    }

    #[test]
    fn given_hard_affinity_when_no_labelled_worker_is_idle_then_none() {
        let workers = pool(&[&[], &["gpu"], &[]], &[1]);
        let mut p = Placement::new(Distribution::Fifo, AffinityMode::Hard);
        assert_eq!(p.pick(&view(&workers), Some("gpu")), None);
        let workers = pool(&[&[], &["gpu"], &[]], &[]);
        assert_eq!(p.pick(&view(&workers), Some("gpu")), Some(1));
    }

    #[test]
    fn given_soft_affinity_when_no_labelled_worker_is_idle_then_any_idle_worker() {
        let workers = pool(&[&[], &["gpu"], &[]], &[1]);
        let mut p = Placement::new(Distribution::Fifo, AffinityMode::Soft);
        assert_eq!(p.pick(&view(&workers), Some("gpu")), Some(0));
        let workers = pool(&[&[], &["gpu"], &[]], &[]);
        assert_eq!(p.pick(&view(&workers), Some("gpu")), Some(1));
    }

    #[test]
    fn given_all_busy_or_empty_when_picking_then_none() {
        let workers = pool(&[&[], &[]], &[0, 1]);
        let mut p = Placement::default();
        assert_eq!(p.pick(&view(&workers), None), None);
        assert_eq!(p.pick(&[], None), None);
    }
}
