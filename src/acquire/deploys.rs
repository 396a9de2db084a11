//! The series that mark deployments: kube-state-metrics pods and images, build-info
//! versions, process restarts across instances.

/// Placeholder until deployments land (issue 17).
#[derive(Debug, Default, Clone)]
pub struct DeployData {}
