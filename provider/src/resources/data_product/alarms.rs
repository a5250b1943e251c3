//! The SLA's alarms: what they must be (pure, from the spec), what CloudWatch holds of them,
//! and putting and deleting them. The metric convention is `rules::metrics`.

use super::*;
use crate::aws::Found as _;
use crate::resources::Action;
use crate::rules::metrics;
use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, MetricAlarm, Statistic};

/// The probe publishes every five minutes by default: one period, one datapoint.
const PERIOD_SECONDS: i32 = 300;

/// One alarm, everything the mesh defines about it: what read compares with what it expects.
#[derive(Debug, Clone, PartialEq)]
pub struct AlarmSpec {
    pub(super) name: String,
    pub(super) metric: String,
    pub(super) namespace: String,
    pub(super) dimensions: Vec<(String, String)>,
    pub(super) statistic: String,
    pub(super) comparison: String,
    pub(super) threshold: f64,
    pub(super) treat_missing_data: String,
    pub(super) period: i32,
    pub(super) evaluation_periods: i32,
    pub(super) alarm_actions: BTreeSet<String>,
    pub(super) ok_actions: BTreeSet<String>,
}

/// Both alarm names a product may own, freshness first.
pub(super) fn names(id: &ProductId) -> [String; 2] {
    [
        metrics::freshness_alarm(&id.domain, &id.name),
        metrics::quality_alarm(&id.domain, &id.name),
    ]
}

/// The alarms `spec` declares (pure): none without an SLA; the freshness alarm, which treats a
/// missing datapoint as breaching so a dead pipeline alarms; the quality alarm when a minimum
/// score is set.
pub(super) fn expected(spec: &Spec) -> Vec<AlarmSpec> {
    expected_for(&spec.id(), spec.freshness, &spec.watch)
}

/// [`expected`] from the parts that decide it.
pub(super) fn expected_for(
    id: &ProductId,
    freshness: Option<i64>,
    watch: &Watch,
) -> Vec<AlarmSpec> {
    let Some(freshness) = freshness else {
        return Vec::new();
    };
    let [freshness_name, quality_name] = names(id);
    let alarm = |name: String,
                 metric: &str,
                 statistic: &str,
                 comparison: &str,
                 threshold,
                 missing: &str| AlarmSpec {
        name,
        metric: metric.to_string(),
        namespace: metrics::NAMESPACE.to_string(),
        dimensions: vec![
            (metrics::DOMAIN.to_string(), id.domain.clone()),
            (metrics::PRODUCT.to_string(), id.name.clone()),
        ],
        statistic: statistic.to_string(),
        comparison: comparison.to_string(),
        threshold,
        treat_missing_data: missing.to_string(),
        period: PERIOD_SECONDS,
        evaluation_periods: 1,
        alarm_actions: watch.alarm_actions.clone(),
        ok_actions: watch.ok_actions.clone(),
    };
    let mut out = vec![alarm(
        freshness_name,
        metrics::FRESHNESS,
        "Maximum",
        "GreaterThanThreshold",
        freshness as f64,
        "breaching",
    )];
    if let Some(min) = watch.min_quality {
        out.push(alarm(
            quality_name,
            metrics::QUALITY,
            "Minimum",
            "LessThanThreshold",
            min,
            "breaching",
        ));
    }
    out
}

/// What CloudWatch holds of an alarm, in the terms of [`AlarmSpec`] (pure).
pub(super) fn of_alarm(a: &MetricAlarm) -> AlarmSpec {
    let mut dimensions: Vec<(String, String)> = a
        .dimensions()
        .iter()
        .map(|d| {
            (
                d.name().unwrap_or_default().to_string(),
                d.value().unwrap_or_default().to_string(),
            )
        })
        .collect();
    // The mesh's order: Domain, then Product.
    dimensions.sort_by_key(|(name, _)| name != metrics::DOMAIN);
    AlarmSpec {
        name: a.alarm_name().unwrap_or_default().to_string(),
        metric: a.metric_name().unwrap_or_default().to_string(),
        namespace: a.namespace().unwrap_or_default().to_string(),
        dimensions,
        statistic: a
            .statistic()
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        comparison: a
            .comparison_operator()
            .map(|c| c.as_str().to_string())
            .unwrap_or_default(),
        threshold: a.threshold().unwrap_or_default(),
        treat_missing_data: a.treat_missing_data().unwrap_or("missing").to_string(),
        period: a.period().unwrap_or_default(),
        evaluation_periods: a.evaluation_periods().unwrap_or_default(),
        alarm_actions: a.alarm_actions().iter().cloned().collect(),
        ok_actions: a.ok_actions().iter().cloned().collect(),
    }
}

/// True when `found` is what `expected` defines, except the parts the state shows as
/// attributes of their own (thresholds of the quality alarm and the actions, which show as
/// `sla` drift): the metric, dimensions, statistic, comparison, missing-data treatment and the
/// freshness threshold.
pub(super) fn same_shape(found: &AlarmSpec, expected: &AlarmSpec) -> bool {
    let with_attributes_of = |a: &AlarmSpec| AlarmSpec {
        alarm_actions: expected.alarm_actions.clone(),
        ok_actions: expected.ok_actions.clone(),
        threshold: if a.metric == metrics::FRESHNESS {
            a.threshold
        } else {
            expected.threshold
        },
        ..a.clone()
    };
    with_attributes_of(found) == *expected
}

/// True when an alarm that exists differs from the mesh's definition in a part no attribute
/// shows (pure): the plan then shows an update that puts it back. `freshness` is the table's.
pub(super) fn reshaped(id: &ProductId, freshness: Option<i64>, found: &[AlarmSpec]) -> bool {
    // What the found alarms say of the parts that are attributes (quality threshold, actions)
    // is taken as is: those show as `sla` drift.
    let watch = Watch {
        min_quality: found
            .iter()
            .find(|a| a.metric == metrics::QUALITY)
            .map(|a| a.threshold),
        ..Watch::default()
    };
    let wanted = expected_for(id, freshness, &watch);
    found
        .iter()
        .any(|f| match wanted.iter().find(|w| w.name == f.name) {
            Some(w) => !same_shape(f, w),
            // Not declared at all: `alarm_names` shows it.
            None => false,
        })
}

impl DataProduct {
    /// DescribeAlarms for both names a product may own: what exists of them.
    pub(super) async fn find_alarms(
        &self,
        client: &Mesh,
        id: &ProductId,
    ) -> Result<Vec<AlarmSpec>, Diagnostics> {
        let names = names(id);
        let out = client
            .call(Service::CloudWatch, "DescribeAlarms", || {
                client
                    .cloudwatch()
                    .describe_alarms()
                    .set_alarm_names(Some(names.to_vec()))
                    .send()
            })
            .await
            .map_err(|e| aws_diag(Action::Read, format!("the SLA alarms of {id}"), &e))?;
        let mut found: Vec<AlarmSpec> = out.metric_alarms().iter().map(of_alarm).collect();
        found.sort_by_key(|a| a.name != names[0]);
        Ok(found)
    }

    /// Makes the alarms exactly what `spec` declares: puts every expected one (PutMetricAlarm
    /// creates or replaces), deletes those of `had` no longer declared.
    pub(super) async fn sync_alarms(
        &self,
        client: &Mesh,
        spec: &Spec,
        had: &[String],
    ) -> Result<(), Diagnostics> {
        let wanted = expected(spec);
        let puts = wanted.iter().map(|a| self.put_alarm(client, a));
        let unwanted: Vec<String> = had
            .iter()
            .filter(|n| !wanted.iter().any(|a| &a.name == *n))
            .cloned()
            .collect();
        let (puts, deleted) = futures::join!(
            futures::future::join_all(puts),
            self.delete_alarms(client, &unwanted)
        );
        let mut diags = Diagnostics::new();
        for r in puts.into_iter().chain([deleted]) {
            if let Err(d) = r {
                diags.extend(d);
            }
        }
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(())
        }
    }

    async fn put_alarm(&self, client: &Mesh, a: &AlarmSpec) -> Result<(), Diagnostics> {
        let dimensions: Vec<Dimension> = a
            .dimensions
            .iter()
            .map(|(n, v)| Dimension::builder().name(n).value(v).build())
            .collect();
        client
            .call(Service::CloudWatch, "PutMetricAlarm", || {
                client
                    .cloudwatch()
                    .put_metric_alarm()
                    .alarm_name(&a.name)
                    .alarm_description(format!(
                        "Data mesh SLA: {} of {} (managed by terraform-provider-mesh).",
                        a.metric,
                        a.dimensions
                            .iter()
                            .map(|(_, v)| v.as_str())
                            .collect::<Vec<_>>()
                            .join("/")
                    ))
                    .namespace(&a.namespace)
                    .metric_name(&a.metric)
                    .set_dimensions(Some(dimensions.clone()))
                    .statistic(Statistic::from(a.statistic.as_str()))
                    .period(a.period)
                    .evaluation_periods(a.evaluation_periods)
                    .datapoints_to_alarm(a.evaluation_periods)
                    .threshold(a.threshold)
                    .comparison_operator(ComparisonOperator::from(a.comparison.as_str()))
                    .treat_missing_data(&a.treat_missing_data)
                    .actions_enabled(true)
                    .set_alarm_actions(Some(a.alarm_actions.iter().cloned().collect()))
                    .set_ok_actions(Some(a.ok_actions.iter().cloned().collect()))
                    .send()
            })
            .await
            .map(|_| ())
            .map_err(|e| aws_diag(Action::Write, format!("alarm {}", a.name), &e))
    }

    /// Deletes `names`, one call each (DeleteAlarms refuses the whole call when one name is
    /// missing); an alarm already gone is deleted.
    pub(super) async fn delete_alarms(
        &self,
        client: &Mesh,
        names: &[String],
    ) -> Result<(), Diagnostics> {
        let calls = names.iter().map(|name| async move {
            client
                .call(Service::CloudWatch, "DeleteAlarms", || {
                    client.cloudwatch().delete_alarms().alarm_names(name).send()
                })
                .await
                .or_gone()
                .map_err(|e| aws_diag(Action::Delete, format!("alarm {name}"), &e))
        });
        let mut diags = Diagnostics::new();
        for r in futures::future::join_all(calls).await {
            if let Err(d) = r {
                diags.extend(d);
            }
        }
        if diags.has_errors() {
            Err(diags)
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(freshness: Option<i64>, min_quality: Option<f64>) -> Spec {
        let mut model = super::super::apply::tests::model(vec![]);
        model.sla = match freshness {
            Some(f) => Attr::Known(Sla {
                freshness_minutes: Attr::Known(f),
                min_quality_score: min_quality.into(),
                alarm_actions: Attr::Known(
                    ["arn:aws:sns:eu-west-1:111122223333:mesh".to_string()].into(),
                ),
                ok_actions: Attr::Null,
            }),
            None => Attr::Null,
        };
        model.column = Attr::Known(vec![ColumnBlock {
            name: Attr::Known("order_id".into()),
            ty: Attr::Known("bigint".into()),
            nullable: Attr::Known(false),
            ..ColumnBlock::default()
        }]);
        Spec::from(&model).unwrap()
    }

    #[test]
    fn the_sla_becomes_a_freshness_alarm_that_fires_on_silence_and_a_quality_alarm() {
        assert!(expected(&spec(None, None)).is_empty(), "no SLA, no alarms");
        let alarms = expected(&spec(Some(60), Some(0.9)));
        assert_eq!(alarms.len(), 2);
        let f = &alarms[0];
        assert_eq!(f.name, "commerce-orders-freshness");
        assert_eq!(
            (f.namespace.as_str(), f.metric.as_str()),
            ("DataMesh", "freshness_minutes")
        );
        assert_eq!(
            f.dimensions,
            vec![
                ("Domain".to_string(), "commerce".to_string()),
                ("Product".to_string(), "orders".to_string())
            ]
        );
        assert_eq!(f.threshold, 60.0);
        assert_eq!(f.comparison, "GreaterThanThreshold");
        assert_eq!(f.treat_missing_data, "breaching", "a dead pipeline alarms");
        assert_eq!(f.alarm_actions.len(), 1);
        let q = &alarms[1];
        assert_eq!(q.name, "commerce-orders-quality");
        assert_eq!(
            (q.metric.as_str(), q.comparison.as_str()),
            ("quality_score", "LessThanThreshold")
        );
        assert_eq!(q.threshold, 0.9);
        assert_eq!(expected(&spec(Some(60), None)).len(), 1);
    }

    #[test]
    fn read_back_alarms_compare_by_shape() {
        let wanted = expected(&spec(Some(60), Some(0.9)));
        let aws = MetricAlarm::builder()
            .alarm_name("commerce-orders-freshness")
            .namespace("DataMesh")
            .metric_name("freshness_minutes")
            // AWS may list dimensions in another order.
            .dimensions(Dimension::builder().name("Product").value("orders").build())
            .dimensions(
                Dimension::builder()
                    .name("Domain")
                    .value("commerce")
                    .build(),
            )
            .statistic(Statistic::Maximum)
            .period(300)
            .evaluation_periods(1)
            .threshold(60.0)
            .comparison_operator(ComparisonOperator::GreaterThanThreshold)
            .treat_missing_data("breaching")
            .alarm_actions("arn:aws:sns:eu-west-1:111122223333:mesh")
            .build();
        let found = of_alarm(&aws);
        assert!(same_shape(&found, &wanted[0]), "{found:?}");
        let loosened = AlarmSpec {
            treat_missing_data: "notBreaching".into(),
            ..found.clone()
        };
        assert!(!same_shape(&loosened, &wanted[0]), "silence must alarm");
        let moved = AlarmSpec {
            threshold: 600.0,
            ..found
        };
        assert!(
            !same_shape(&moved, &wanted[0]),
            "the freshness threshold is the SLA"
        );
    }
}
