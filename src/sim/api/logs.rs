//! `pods/log`: plausible synthetic container logs that match what the pod is doing
//! (a crash-looping container logs its fatal error, a healthy agent its routine work),
//! with `follow`, `tailLines`, `previous`, `timestamps` and `container`.
//!
//! May import: `sim::api::request`, `sim::errors`, `sim::kind`, `sim::kubelet`.

use std::time::Duration;

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use k8s_openapi::api::core::v1 as core;

use super::request::{Ctx, body_from_stream};
use crate::sim::errors::ApiError;
use crate::sim::kubelet::{Behavior, behavior_of};

fn templates(image: &str) -> &'static [&'static str] {
    let i = image.to_lowercase();
    if i.contains("fluent") || i.contains("log") || i.contains("vector") {
        &[
            "[input:tail:tail.0] inotify_fs_add(): inode={n} watch_fd={m} name=/var/log/containers/app-{m}.log",
            "[output:forward:forward.0] flushed {n} records ({m} KiB) to aggregator",
            "[filter:kubernetes:kubernetes.0] enriched {n} records with pod metadata",
        ]
    } else if i.contains("exporter") || i.contains("metrics") {
        &[
            "level=info collector=cpu msg=\"scrape finished\" duration_seconds=0.0{m} samples={n}",
            "level=info collector=filesystem msg=\"scrape finished\" duration_seconds=0.00{m}",
            "level=info msg=\"served /metrics\" remote=10.0.{m}.{n} bytes={n}{m}",
        ]
    } else if i.contains("cilium") || i.contains("calico") || i.contains("cni") || i.contains("flannel") {
        &[
            "level=info msg=\"Regenerated endpoint\" endpointID={n} identity={m}{n} subsys=endpoint",
            "level=info msg=\"Policy imported\" policyRevision={n} subsys=daemon",
            "level=info msg=\"Conntrack garbage collection\" deleted={m} duration={n}ms subsys=ct-gc",
        ]
    } else if i.contains("csi") {
        &[
            "I{ts} node.go:{m}] NodeGetCapabilities: called with args {{}}",
            "I{ts} node.go:{n}] NodePublishVolume: volume pvc-{m}{n} mounted",
            "I{ts} utils.go:{m}] GRPC call: /csi.v1.Identity/Probe",
        ]
    } else if i.contains("nvidia") || i.contains("gpu") {
        &[
            "I{ts} server.go:{m}] ListAndWatch: reporting {n} healthy devices",
            "I{ts} health.go:{n}] device GPU-{m}{n} healthy (temperature {m}C)",
        ]
    } else if i.contains("kube-proxy") {
        &[
            "I{ts} proxier.go:{m}] \"SyncProxyRules complete\" elapsed=\"{n}ms\"",
            "I{ts} config.go:{n}] \"Updating endpoint slice\" endpointSlice=\"default/svc-{m}\"",
        ]
    } else {
        &["I{ts} main.go:{m}] heartbeat ok (uptime {n}s)", "I{ts} agent.go:{n}] reconciled {m} objects"]
    }
}

fn fatal_line(image: &str) -> String {
    format!(
        "F0000 main.go:87] failed to start {}: open /etc/agent/config.yaml: no such file or directory",
        image.rsplit('/').next().unwrap_or(image)
    )
}

fn line(image: &str, seq: u64, at: jiff::Timestamp) -> String {
    let t = templates(image);
    let tpl = t[(seq as usize) % t.len()];
    let n = (seq * 7919 + 13) % 997;
    let m = (seq * 104729 + 7) % 89;
    let ts = at.strftime("%m%d %H:%M:%S%.6f").to_string();
    tpl.replace("{n}", &n.to_string()).replace("{m}", &m.to_string()).replace("{ts}", &ts)
}

const LINE_EVERY: i64 = 5;

fn render(ctx_ts: bool, at: jiff::Timestamp, text: &str) -> String {
    if ctx_ts { format!("{} {text}\n", at.strftime("%Y-%m-%dT%H:%M:%S%.9fZ")) } else { format!("{text}\n") }
}

pub async fn serve(ctx: &Ctx, name: &str) -> Result<Response, ApiError> {
    let ns = ctx.target.namespace.clone().unwrap_or_default();
    let store = ctx.st.store.clone();
    let pod = store.get::<core::Pod>(&ns, name).ok_or_else(|| ApiError::not_found(crate::sim::kind::Kind::Pod, name))?;
    let spec = pod.spec.clone().unwrap_or_default();
    let container = match ctx.q.get("container").filter(|c| !c.is_empty()) {
        Some(c) => c.clone(),
        None if spec.containers.len() == 1 => spec.containers[0].name.clone(),
        None => {
            let names: Vec<String> = spec.containers.iter().map(|c| c.name.clone()).collect();
            return Err(ApiError::bad_request(format!(
                "a container name must be specified for pod {name}, choose one of: [{}]",
                names.join(" ")
            )));
        }
    };
    let Some(c) = spec.containers.iter().find(|c| c.name == container) else {
        return Err(ApiError::bad_request(format!("container {container} is not valid for pod {name}")));
    };
    let image = c.image.clone().unwrap_or_default();
    let status = pod.status.clone().unwrap_or_default();
    let cs = status.container_statuses.iter().flatten().find(|s| s.name == container).cloned();
    let previous = ctx.q.get("previous").is_some_and(|v| v == "true");
    let timestamps = ctx.q.get("timestamps").is_some_and(|v| v == "true");
    let follow = ctx.q.get("follow").is_some_and(|v| v == "true");
    let tail = ctx.q.get("tailLines").and_then(|t| t.parse::<usize>().ok());
    let behavior = behavior_of(&pod, None);
    let state = cs.as_ref().and_then(|s| s.state.clone()).unwrap_or_default();

    if ctx.st.settings.frozen {
        // A dump served as it was: the log it brought, or none (a follow ends with it).
        let key = (ns.clone(), name.to_string(), container.clone());
        return match ctx.st.dumped_logs.read().get(&key) {
            Some(log) if !previous => {
                let lines: Vec<&str> = log.lines().collect();
                let from = lines.len().saturating_sub(tail.unwrap_or(usize::MAX));
                Ok(text(lines[from..].iter().map(|l| format!("{l}\n")).collect()))
            }
            _ => Err(ApiError::bad_request(format!(
                "the dump has no {}log of container \"{container}\" in pod \"{name}\"",
                if previous { "previous " } else { "" }
            ))),
        };
    }
    if previous {
        let Some(term) = cs.as_ref().and_then(|s| s.last_state.as_ref()).and_then(|l| l.terminated.clone()) else {
            return Err(ApiError::bad_request(format!("previous terminated container \"{container}\" in pod \"{name}\" not found")));
        };
        let end = term.finished_at.map(|t| t.0).unwrap_or_else(jiff::Timestamp::now);
        let start = term.started_at.map(|t| t.0).unwrap_or(end);
        let mut out = String::new();
        out.push_str(&render(timestamps, start, &line(&image, 0, start)));
        out.push_str(&render(timestamps, end, &fatal_line(&image)));
        return Ok(text(out));
    }
    let started = match (&state.running, &state.waiting) {
        (Some(r), _) => r.started_at.clone().map(|t| t.0),
        (None, Some(w)) if behavior == Behavior::CrashLoop => {
            // Between restarts the log of the last run is what `kubectl logs` shows.
            let _ = w;
            let term = cs.as_ref().and_then(|s| s.last_state.as_ref()).and_then(|l| l.terminated.clone());
            let end = term.as_ref().and_then(|t| t.finished_at.clone()).map(|t| t.0).unwrap_or_else(jiff::Timestamp::now);
            let start = term.and_then(|t| t.started_at).map(|t| t.0).unwrap_or(end);
            return Ok(text(render(timestamps, start, &line(&image, 0, start)) + &render(timestamps, end, &fatal_line(&image))));
        }
        (None, Some(w)) => {
            let reason = w.reason.clone().unwrap_or_else(|| "ContainerCreating".into());
            let why = if reason.contains("ImagePull") || reason == "ErrImagePull" {
                "trying and failing to pull image".to_string()
            } else {
                reason
            };
            return Err(ApiError::bad_request(format!("container \"{container}\" in pod \"{name}\" is waiting to start: {why}")));
        }
        _ => None,
    };
    let Some(started) = started else {
        return Err(ApiError::bad_request(format!("container \"{container}\" in pod \"{name}\" is waiting to start: ContainerCreating")));
    };
    let now = jiff::Timestamp::now();
    let elapsed = now.duration_since(started).as_secs().max(0);
    let count = (elapsed / LINE_EVERY + 1) as u64;
    // A synthetic history is capped at the last 2,000 lines.
    let first = count.saturating_sub(tail.map_or(2000, |t| t.min(2000)) as u64);
    let mut out = String::new();
    for seq in first..count {
        let at = started + jiff::SignedDuration::from_secs(seq as i64 * LINE_EVERY);
        let text = if seq == 0 { format!("starting {image}") } else { line(&image, seq, at) };
        out.push_str(&render(timestamps, at, &text));
        if behavior == Behavior::NeverReady && seq % 3 == 2 {
            out.push_str(&render(
                timestamps,
                at,
                "W0000 health.go:51] readiness probe dependency not reachable: dial tcp 10.96.0.1:443: i/o timeout",
            ));
        }
    }
    if !follow {
        return Ok(text(out));
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::convert::Infallible>>(16);
    let uid = pod.metadata.uid.clone();
    let name = name.to_string();
    tokio::spawn(async move {
        if tx.send(Ok(Bytes::from(out))).await.is_err() {
            return;
        }
        let mut seq = count;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_secs(LINE_EVERY as u64)) => {}
                _ = tx.closed() => return,
            }
            // The stream ends when the pod (this incarnation of it) is gone or stops running.
            let Some(p) = store.get::<core::Pod>(&ns, &name) else {
                return;
            };
            if p.metadata.uid != uid {
                return;
            }
            let running = p
                .status
                .as_ref()
                .and_then(|s| s.container_statuses.as_ref())
                .and_then(|v| v.iter().find(|s| s.name == container))
                .and_then(|s| s.state.as_ref())
                .is_some_and(|s| s.running.is_some());
            if !running {
                return;
            }
            let at = jiff::Timestamp::now();
            if tx.send(Ok(Bytes::from(render(timestamps, at, &line(&image, seq, at))))).await.is_err() {
                return;
            }
            seq += 1;
        }
    });
    let body = body_from_stream(tokio_stream::wrappers::ReceiverStream::new(rx));
    Ok((StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], body).into_response())
}

fn text(s: String) -> Response {
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain")], s).into_response()
}
