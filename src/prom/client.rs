//! HTTP side of the client: POSTs form-encoded queries, caps response sizes, maps
//! transport and API failures to [`PromError`], and merges sliced range answers.

use super::api::{
    self, Data, Envelope, InstantSample, Labels, QUERY_PATH, QUERY_RANGE_PATH, RangeSeries,
    SERIES_PATH,
};
use super::backend::{Backend, PartialResponse};
use super::error::PromError;
use super::range;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Semaphore;

#[derive(Debug, Clone)]
pub struct ClientOptions {
    pub base_url: String,
    pub timeout: Duration,
    pub concurrency: usize,
    /// Responses larger than this are refused rather than buffered.
    pub max_response_bytes: u64,
    pub max_points_per_series: u64,
    /// Extra attempts for a query after a transient failure (connection, timeout, 502,
    /// 503, 504, 429); queries are idempotent, so retrying is safe.
    pub retries: u32,
    /// One deadline for all the client's requests together, retries included.
    pub deadline: Duration,
    pub auth: Auth,
    pub backend: Backend,
    /// Sent to Thanos only.
    pub partial_response: PartialResponse,
    /// `--query-param`: extra form parameters on every query (e.g. Thanos's
    /// `max_source_resolution`, VictoriaMetrics's `extra_label`).
    pub query_params: Vec<(String, String)>,
    /// How far behind now the server's data is complete; windows end no later.
    pub latency_offset: Duration,
}

/// The two HTTP methods the API is called with: POST where the endpoint takes a form
/// (queries can be longer than a URL may be), GET where it takes only a query string.
#[derive(Debug, Clone, Copy)]
enum Method {
    Get,
    Post,
}

/// How far a refused range is halved before giving up: 2^12 pieces is more than any
/// 11,000-point range can be cut into.
const MAX_SPLIT_DEPTH: u32 = 12;

/// How to authenticate and trust the server. Secrets live only here and in requests.
#[derive(Clone, Default)]
pub struct Auth {
    pub bearer_token: Option<String>,
    pub basic: Option<(String, String)>,
    pub headers: Vec<(String, String)>,
    /// PEM bytes of extra root certificates.
    pub ca_pem: Option<Vec<u8>>,
    /// PEM bytes of a client certificate followed by its key.
    pub identity_pem: Option<Vec<u8>>,
    pub insecure_skip_verify: bool,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field(
                "bearer_token",
                &self.bearer_token.as_ref().map(|_| "<redacted>"),
            )
            .field(
                "basic",
                &self.basic.as_ref().map(|(u, _)| (u, "<redacted>")),
            )
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field("insecure_skip_verify", &self.insecure_skip_verify)
            .finish()
    }
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            base_url: "http://localhost:9090".to_string(),
            timeout: Duration::from_secs(60),
            concurrency: 8,
            max_response_bytes: 256 * 1024 * 1024,
            max_points_per_series: range::PROMETHEUS_MAX_POINTS,
            retries: 2,
            deadline: Duration::from_secs(300),
            auth: Auth::default(),
            backend: Backend::default(),
            partial_response: PartialResponse::default(),
            query_params: Vec::new(),
            latency_offset: Duration::ZERO,
        }
    }
}

/// The answer to one query: data plus the warnings Prometheus attached to it.
#[derive(Debug, Clone, Default)]
pub struct Answer<T> {
    pub data: T,
    pub warnings: Vec<String>,
    /// HTTP requests the answer took: more than one when a range was sliced, or split
    /// after the server refused it as too large.
    pub requests: usize,
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    base_url: String,
    /// The base URL without credentials, for messages and reports.
    display_url: String,
    started: std::time::Instant,
    options: ClientOptions,
    permits: Arc<Semaphore>,
    /// Whether the server has answered any request (with any status): a timeout then
    /// means a slow query, not a server that is down or the wrong address.
    answered: Arc<AtomicBool>,
}

impl Client {
    pub fn new(options: ClientOptions) -> Result<Self, PromError> {
        let base_url = options.base_url.trim_end_matches('/').to_string();
        let parsed = reqwest::Url::parse(&base_url).map_err(|e| PromError::BadUrl {
            url: mask_userinfo(&options.base_url),
            detail: e.to_string(),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(PromError::BadUrl {
                url: mask_userinfo(&options.base_url),
                detail: "the scheme must be http or https".to_string(),
            });
        }
        let tls_error = |what: &str, e: reqwest::Error| PromError::BadUrl {
            url: mask_userinfo(&options.base_url),
            detail: format!("{what}: {e}"),
        };
        let mut headers = reqwest::header::HeaderMap::new();
        for (name, value) in &options.auth.headers {
            let name = reqwest::header::HeaderName::from_bytes(name.as_bytes()).map_err(|e| {
                PromError::BadUrl {
                    url: mask_userinfo(&options.base_url),
                    detail: format!("--header {name:?}: {e}"),
                }
            })?;
            let mut value =
                reqwest::header::HeaderValue::from_str(value).map_err(|e| PromError::BadUrl {
                    url: mask_userinfo(&options.base_url),
                    detail: format!("--header {name}: {e}"),
                })?;
            value.set_sensitive(true);
            headers.insert(name, value);
        }
        let mut builder = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("leakcollect/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .danger_accept_invalid_certs(options.auth.insecure_skip_verify);
        if let Some(pem) = &options.auth.ca_pem {
            for cert in
                reqwest::Certificate::from_pem_bundle(pem).map_err(|e| tls_error("--ca-file", e))?
            {
                builder = builder.add_root_certificate(cert);
            }
        }
        if let Some(pem) = &options.auth.identity_pem {
            builder = builder.identity(
                reqwest::Identity::from_pem(pem)
                    .map_err(|e| tls_error("--client-cert/--client-key", e))?,
            );
        }
        let http = builder.build().map_err(|e| tls_error("HTTP client", e))?;
        Ok(Self {
            http,
            display_url: redact_url(&parsed),
            base_url,
            started: std::time::Instant::now(),
            permits: Arc::new(Semaphore::new(options.concurrency.max(1))),
            answered: Arc::new(AtomicBool::new(false)),
            options,
        })
    }

    /// The server's URL as safe to show: no user name or password.
    pub fn display_url(&self) -> &str {
        &self.display_url
    }

    /// An instant query evaluated at `time` (Unix seconds).
    pub async fn query(
        &self,
        query_id: &str,
        promql: &str,
        time: f64,
    ) -> Result<Answer<Vec<InstantSample>>, PromError> {
        let mut form = vec![
            ("query".to_string(), promql.to_string()),
            ("time".to_string(), format_time(time)),
        ];
        self.add_params(&mut form, false);
        let envelope = self.post(query_id, QUERY_PATH, &form).await?;
        let decode = |detail: String| PromError::Decode {
            query_id: query_id.to_string(),
            detail,
        };
        let data = match envelope.data {
            Some(Data::Vector(samples)) => samples
                .into_iter()
                .map(|s| {
                    let api::RawPoint(time, value) = s.value;
                    Ok(InstantSample {
                        labels: s.metric,
                        time,
                        value,
                    })
                })
                .collect::<Result<Vec<_>, PromError>>()?,
            Some(Data::Scalar(point)) => {
                let api::RawPoint(time, value) = point;
                vec![InstantSample {
                    labels: Labels::new(),
                    time,
                    value,
                }]
            }
            other => return Err(decode(format!("expected a vector, got {other:?}"))),
        };
        Ok(Answer {
            data,
            warnings: envelope.warnings,
            requests: 1,
        })
    }

    /// An instant query of a range selector (`metric{…}[5m]`) at `time`: the raw
    /// samples in that range, with their own timestamps.
    pub async fn query_raw(
        &self,
        query_id: &str,
        promql: &str,
        time: f64,
    ) -> Result<Answer<Vec<RangeSeries>>, PromError> {
        let mut form = vec![
            ("query".to_string(), promql.to_string()),
            ("time".to_string(), format_time(time)),
        ];
        self.add_params(&mut form, false);
        let envelope = self.post(query_id, QUERY_PATH, &form).await?;
        let data = match envelope.data {
            Some(Data::Matrix(series)) => series
                .into_iter()
                .map(|raw| RangeSeries {
                    labels: raw.metric,
                    points: raw
                        .values
                        .into_iter()
                        .map(|api::RawPoint(t, v)| (t, v))
                        .collect(),
                })
                .collect(),
            other => {
                return Err(PromError::Decode {
                    query_id: query_id.to_string(),
                    detail: format!("expected a matrix, got {other:?}"),
                });
            }
        };
        Ok(Answer {
            data,
            warnings: envelope.warnings,
            requests: 1,
        })
    }

    /// A range query, sliced so no request exceeds the per-series point limit; slices
    /// are fetched in order and merged by label set. A slice the server refuses as too
    /// large (sample, point or chunk limits) is halved on the step grid and asked again.
    pub async fn query_range(
        &self,
        query_id: &str,
        promql: &str,
        start: f64,
        end: f64,
        step: f64,
    ) -> Result<Answer<Vec<RangeSeries>>, PromError> {
        let mut merged: BTreeMap<Labels, Vec<(f64, f64)>> = BTreeMap::new();
        let mut warnings = Vec::new();
        let mut requests = 0;
        let mut pending: std::collections::VecDeque<(f64, f64, u32)> =
            range::slices(start, end, step, self.options.max_points_per_series)
                .into_iter()
                .map(|(a, b)| (a, b, 0))
                .collect();
        while let Some((slice_start, slice_end, depth)) = pending.pop_front() {
            let mut form = vec![
                ("query".to_string(), promql.to_string()),
                ("start".to_string(), format_time(slice_start)),
                ("end".to_string(), format_time(slice_end)),
                ("step".to_string(), format_time(step)),
            ];
            self.add_params(&mut form, true);
            requests += 1;
            let envelope = match self.post(query_id, QUERY_RANGE_PATH, &form).await {
                Ok(envelope) => envelope,
                Err(error) => match range::halve(slice_start, slice_end, step) {
                    Some((first, second)) if depth < MAX_SPLIT_DEPTH && error.is_size_limit() => {
                        pending.push_front((second.0, second.1, depth + 1));
                        pending.push_front((first.0, first.1, depth + 1));
                        continue;
                    }
                    _ => return Err(error),
                },
            };
            warnings.extend(envelope.warnings);
            let series = match envelope.data {
                Some(Data::Matrix(series)) => series,
                other => {
                    return Err(PromError::Decode {
                        query_id: query_id.to_string(),
                        detail: format!("expected a matrix, got {other:?}"),
                    });
                }
            };
            for raw in series {
                let points = merged.entry(raw.metric).or_default();
                // Same layout: the first slice's vector is reused in place, not copied.
                let parsed = raw.values.into_iter().map(|api::RawPoint(t, v)| (t, v));
                if points.is_empty() {
                    *points = parsed.collect();
                } else {
                    points.extend(parsed);
                }
            }
        }
        let data = merged
            .into_iter()
            .map(|(labels, mut points)| {
                // Slices arrive in order, so this is almost always already sorted.
                if !points.is_sorted_by(|a, b| a.0 <= b.0) {
                    points.sort_by(|a, b| a.0.total_cmp(&b.0));
                }
                points.dedup_by(|a, b| a.0 == b.0);
                RangeSeries { labels, points }
            })
            .collect();
        Ok(Answer {
            data,
            warnings,
            requests,
        })
    }

    /// Appends the backend's and the user's extra parameters to a query's form.
    fn add_params(&self, form: &mut Vec<(String, String)>, range: bool) {
        let backend = self.options.backend;
        form.extend(backend.query_params(self.options.partial_response));
        if range {
            form.extend(backend.range_params());
        }
        form.extend(self.options.query_params.iter().cloned());
    }

    /// Label sets of the series matching any of `matches` in `[start, end]` (index only,
    /// no samples: cheap even over long windows). Sent with the same backend and user
    /// parameters as queries, so `dedup`, tenant filters and `extra_label` apply here too.
    pub async fn series(
        &self,
        query_id: &str,
        matches: &[String],
        start: f64,
        end: f64,
    ) -> Result<Answer<Vec<Labels>>, PromError> {
        let mut form: Vec<(String, String)> = matches
            .iter()
            .map(|m| ("match[]".to_string(), m.clone()))
            .collect();
        form.push(("start".into(), format_time(start)));
        form.push(("end".into(), format_time(end)));
        self.add_params(&mut form, false);
        let envelope: Envelope<Vec<Labels>> = self
            .call(query_id, Method::Post, SERIES_PATH, &form)
            .await?;
        Ok(Answer {
            data: envelope.data.unwrap_or_default(),
            warnings: envelope.warnings,
            requests: 1,
        })
    }

    /// Metric types by name from `/api/v1/metadata` (empty when the server keeps none,
    /// as for backfilled data).
    pub async fn metadata(&self) -> Result<BTreeMap<String, String>, PromError> {
        #[derive(serde::Deserialize)]
        struct Entry {
            #[serde(rename = "type")]
            kind: String,
        }
        let envelope: Envelope<BTreeMap<String, Vec<Entry>>> = self
            .call("metadata", Method::Get, api::METADATA_PATH, &[])
            .await?;
        Ok(envelope
            .data
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(name, entries)| entries.into_iter().next().map(|e| (name, e.kind)))
            .collect())
    }

    /// Values the label `name` takes on series matching `series_match` in `[start, end]`.
    pub async fn label_values(
        &self,
        name: &str,
        series_match: &str,
        start: f64,
        end: f64,
    ) -> Result<Vec<String>, PromError> {
        let mut form = vec![
            ("match[]".to_string(), series_match.to_string()),
            ("start".to_string(), format_time(start)),
            ("end".to_string(), format_time(end)),
        ];
        self.add_params(&mut form, false);
        let envelope: Envelope<Vec<String>> = self
            .call(
                "label_values",
                Method::Get,
                &api::label_values_path(name),
                &form,
            )
            .await?;
        Ok(envelope.data.unwrap_or_default())
    }

    /// The alerting rules (`/api/v1/rules?type=alert`). A server without the API
    /// answers 404 (or 400 from VictoriaMetrics without `-vmalert.proxyURL`); the caller
    /// decides what that means.
    pub async fn rules(&self) -> Result<Answer<api::RulesData>, PromError> {
        let form = [("type".to_string(), "alert".to_string())];
        let envelope: Envelope<api::RulesData> = self
            .call("rules", Method::Get, api::RULES_PATH, &form)
            .await?;
        Ok(Answer {
            data: envelope.data.unwrap_or_default(),
            warnings: envelope.warnings,
            requests: 1,
        })
    }

    /// Names of the labels on series matching `series_match` in `[start, end]`.
    pub async fn label_names(
        &self,
        series_match: &str,
        start: f64,
        end: f64,
    ) -> Result<Vec<String>, PromError> {
        let mut form = vec![
            ("match[]".to_string(), series_match.to_string()),
            ("start".to_string(), format_time(start)),
            ("end".to_string(), format_time(end)),
        ];
        self.add_params(&mut form, false);
        let envelope: Envelope<Vec<String>> = self
            .call("label_names", Method::Get, api::LABELS_PATH, &form)
            .await?;
        Ok(envelope.data.unwrap_or_default())
    }

    /// POSTs a query form (see [`Client::call`]).
    async fn post(
        &self,
        query_id: &str,
        path: &str,
        form: &[(String, String)],
    ) -> Result<Envelope, PromError> {
        self.call(query_id, Method::Post, path, form).await
    }

    /// One API call with bounded retries and exponential backoff for transient failures,
    /// within the client's overall deadline: a retry is started only when its backoff
    /// and a whole `--timeout` still fit before the deadline, so the run's worst case
    /// stays under it. Every endpoint goes through here, so auth, retries, size caps
    /// and error classes are the same for all of them.
    async fn call<T: serde::de::DeserializeOwned>(
        &self,
        query_id: &str,
        method: Method,
        path: &str,
        form: &[(String, String)],
    ) -> Result<Envelope<T>, PromError> {
        let timeout = self.options.timeout;
        let mut attempt = 0;
        loop {
            let (result, shortened) = self.call_once(query_id, method, path, form).await;
            attempt += 1;
            let transient = matches!(
                &result,
                Err(PromError::Unreachable { .. }
                    | PromError::NoAnswer { .. }
                    | PromError::Unavailable { .. })
            ) || matches!(&result, Err(PromError::Status { status, .. }) if matches!(status, 429 | 502 | 504));
            if !transient {
                return result;
            }
            let backoff = Duration::from_millis(250 * 2u64.pow(attempt - 1));
            let time_left = self.options.deadline.saturating_sub(self.started.elapsed());
            let fits = time_left >= backoff + timeout;
            if attempt > self.options.retries || !fits || shortened {
                let cut = (shortened || (!fits && attempt <= self.options.retries))
                    .then_some(self.options.deadline);
                return result.map_err(|error| match error {
                    PromError::NoAnswer { .. } => PromError::NoAnswer {
                        url: self.display_url.clone(),
                        query_id: query_id.to_string(),
                        attempts: attempt,
                        timeout,
                        answered: self.answered.load(Ordering::Relaxed),
                        cut_by: cut,
                    },
                    other => other,
                });
            }
            tokio::time::sleep(backoff).await;
        }
    }

    /// One request; the flag says whether the deadline left it less than `--timeout`.
    async fn call_once<T: serde::de::DeserializeOwned>(
        &self,
        query_id: &str,
        method: Method,
        path: &str,
        form: &[(String, String)],
    ) -> (Result<Envelope<T>, PromError>, bool) {
        let _permit = self
            .permits
            .acquire()
            .await
            .expect("semaphore never closed");
        let time_left = self.options.deadline.saturating_sub(self.started.elapsed());
        if time_left.is_zero() {
            let error = PromError::DeadlinePassed {
                query_id: query_id.to_string(),
                deadline: self.options.deadline,
            };
            return (Err(error), false);
        }
        let budget = self.options.timeout.min(time_left);
        let result = self.send(query_id, method, path, form, budget).await;
        (result, budget < self.options.timeout)
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        query_id: &str,
        method: Method,
        path: &str,
        form: &[(String, String)],
        budget: Duration,
    ) -> Result<Envelope<T>, PromError> {
        let url = format!("{}{}", self.base_url, path);
        let request = match method {
            Method::Post => self.http.post(&url).form(form),
            Method::Get => self.http.get(&url).query(form),
        };
        let response = self
            .authorize(request)
            .timeout(budget)
            .send()
            .await
            .map_err(|e| self.transport_error(query_id, e))?;
        self.answered.store(true, Ordering::Relaxed);
        let status = response.status();
        let body = self.read_capped(query_id, response).await?;
        let envelope: Result<Envelope<T>, _> = serde_json::from_slice(&body);
        if status.is_success() {
            let envelope = envelope.map_err(|e| PromError::Decode {
                query_id: query_id.to_string(),
                detail: e.to_string(),
            })?;
            if envelope.status != "success" {
                return Err(PromError::Api {
                    query_id: query_id.to_string(),
                    error_type: envelope.error_type.unwrap_or_else(|| "unknown".into()),
                    message: envelope.error.unwrap_or_default(),
                });
            }
            return Ok(envelope);
        }
        Err(self.status_error(query_id, path, status.as_u16(), &body))
    }

    /// The error class of a non-2xx answer, with Prometheus's own text.
    fn status_error(&self, query_id: &str, path: &str, status: u16, body: &[u8]) -> PromError {
        // An error body's `data` may not have the success shape; read only its message.
        let mut message = match serde_json::from_slice::<Envelope<serde::de::IgnoredAny>>(body) {
            Ok(Envelope {
                error: Some(text), ..
            }) => text,
            _ => summarize_body(body),
        };
        if status == 401 && message.to_ascii_lowercase().contains("no org id") {
            message
                .push_str(" (Mimir and Cortex want a tenant: --header 'X-Scope-OrgID: <tenant>')");
        }
        let query_id = query_id.to_string();
        let url = self.display_url.clone();
        match status {
            400 => PromError::BadQuery { query_id, message },
            // Every server leakcollect speaks to has the query and index endpoints; an
            // older one may lack metadata, so a 404 there says only that.
            404 if path != api::METADATA_PATH || url.ends_with("/api/v1") => {
                match url.strip_suffix("/api/v1") {
                    Some(base) => PromError::ApiPathInUrl {
                        base: base.to_string(),
                        path: format!("/api/v1{path}"),
                        url,
                    },
                    None => PromError::NotFound {
                        path: path.to_string(),
                        url,
                    },
                }
            }
            422 => PromError::Unprocessable { query_id, message },
            503 => PromError::Unavailable { query_id, message },
            code => PromError::Status {
                url,
                query_id,
                status: code,
                message,
            },
        }
    }

    async fn read_capped(
        &self,
        query_id: &str,
        mut response: reqwest::Response,
    ) -> Result<Vec<u8>, PromError> {
        let limit = self.options.max_response_bytes;
        let too_large = || PromError::TooLarge {
            query_id: query_id.to_string(),
            limit_mib: limit / (1024 * 1024),
        };
        if response.content_length().is_some_and(|len| len > limit) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| self.transport_error(query_id, e))?
        {
            if body.len() as u64 + chunk.len() as u64 > limit {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    fn transport_error(&self, query_id: &str, error: reqwest::Error) -> PromError {
        let chain = error_chain(&error);
        if let Some(rest) = self.display_url.strip_prefix("https://")
            && chain.contains("InvalidContentType")
        {
            // rustls read a plain-HTTP answer where a TLS record should be.
            PromError::NotTls {
                url: self.display_url.clone(),
                http_url: format!("http://{rest}"),
            }
        } else if error.is_timeout() && !error.is_connect() {
            // The fields `call` knows (attempts, deadline) are filled in there.
            PromError::NoAnswer {
                url: self.display_url.clone(),
                query_id: query_id.to_string(),
                attempts: 1,
                timeout: self.options.timeout,
                answered: false,
                cut_by: None,
            }
        } else if error.is_connect() {
            PromError::Unreachable {
                url: self.display_url.clone(),
                detail: self.redact(&error_chain(&error)),
            }
        } else if error.is_body() || error.is_decode() {
            PromError::Decode {
                query_id: query_id.to_string(),
                detail: error_chain(&error),
            }
        } else {
            PromError::Unreachable {
                url: self.display_url.clone(),
                detail: self.redact(&error_chain(&error)),
            }
        }
    }
}

/// Text with any `user:password@` after a scheme masked, for URLs too broken to parse.
pub fn mask_userinfo(text: &str) -> String {
    let start = text.find("://").map_or(0, |i| i + 3);
    match text.rfind('@') {
        Some(at) if at > start => format!("{}***{}", &text[..start], &text[at..]),
        _ => text.to_string(),
    }
}

/// A URL without its user name and password (and query, which may carry tokens).
pub fn redact_url(url: &reqwest::Url) -> String {
    let mut clean = url.clone();
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean.set_query(None);
    clean.as_str().trim_end_matches('/').to_string()
}

impl Client {
    fn authorize(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match (&self.options.auth.bearer_token, &self.options.auth.basic) {
            (Some(token), _) => request.bearer_auth(token),
            (None, Some((user, password))) => request.basic_auth(user, Some(password)),
            (None, None) => request,
        }
    }

    /// Removes the full base URL (with credentials) from a message, if it appears.
    fn redact(&self, text: &str) -> String {
        if self.base_url == self.display_url {
            text.to_string()
        } else {
            text.replace(&self.base_url, &self.display_url)
        }
    }
}

fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn summarize_body(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    let mut summary: String = trimmed.chars().take(300).collect();
    if trimmed.chars().count() > 300 {
        summary.push('…');
    }
    if summary.is_empty() {
        "(empty body)".to_string()
    } else {
        summary
    }
}

/// Prometheus accepts fractional Unix seconds; three decimals keep millisecond precision.
fn format_time(seconds: f64) -> String {
    let text = format!("{seconds:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_reach_messages() {
        let url =
            reqwest::Url::parse("https://alice:s3cret@prom.example:9090/prometheus?token=abc")
                .unwrap();
        assert_eq!(redact_url(&url), "https://prom.example:9090/prometheus");
        assert_eq!(
            mask_userinfo("http://bob:pw@host:9090"),
            "http://***@host:9090"
        );
        assert_eq!(mask_userinfo("http://host:9090"), "http://host:9090");
        let err = Client::new(ClientOptions {
            base_url: "htp//x:secret@host".into(),
            ..ClientOptions::default()
        })
        .err()
        .unwrap();
        assert!(!err.to_string().contains("secret"), "{err}");
    }
}
