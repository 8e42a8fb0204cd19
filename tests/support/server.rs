//! `sketch2face serve` as a child process on a free loopback port: started, its log kept, its
//! memory read, stopped with SIGTERM. Shared by `tests/serve.rs` and `benches/serve_load.rs`
//! (each includes this file with `#[path]`).

#![allow(dead_code)] // each includer uses a different part

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// The server; killed when dropped if it is still running.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`
    base: String,
    /// Every line the server wrote to stderr so far: a thread keeps reading it, so the pipe
    /// never fills and blocks the server.
    log: Arc<Mutex<Vec<String>>>,
}

impl ServerProcess {
    /// Runs `sketch2face serve --addr 127.0.0.1:0 --device cpu --model MODEL EXTRA...`, with
    /// `configure` applied to the command first (folders, environment), and waits up to
    /// `patience` for the line that names the bound address.
    pub fn start(
        model: &Path,
        extra: &[&str],
        patience: Duration,
        configure: impl FnOnce(&mut Command),
    ) -> anyhow::Result<ServerProcess> {
        let mut command = Command::new(env!("CARGO_BIN_EXE_sketch2face"));
        command
            .args([
                "serve",
                "--addr",
                "127.0.0.1:0",
                "--device",
                "cpu",
                "--model",
            ])
            .arg(model)
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        configure(&mut command);
        let mut child = command.spawn().context("cannot start sketch2face serve")?;
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(Mutex::new(Vec::new()));
        let (listening_tx, listening) = mpsc::channel();
        let lines = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(address) = line.strip_prefix("listening on ") {
                    let base = address.split_whitespace().next().unwrap_or_default();
                    let _ = listening_tx.send(base.to_owned());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let base = match listening.recv_timeout(patience) {
            Ok(base) => base,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                bail!("the server did not listen: {:?}", log.lock().unwrap());
            }
        };
        Ok(ServerProcess { child, base, log })
    }

    /// The URL of `path` (which starts with `/`) on the server.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `127.0.0.1:PORT`
    pub fn address(&self) -> &str {
        self.base.trim_start_matches("http://")
    }

    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// The server's resident memory now (`VmRSS`), in MB (10^6 bytes).
    pub fn rss_mb(&self) -> anyhow::Result<f64> {
        let path = format!("/proc/{}/status", self.child.id());
        let status =
            std::fs::read_to_string(&path).with_context(|| format!("cannot read {path}"))?;
        let kib: f64 = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse().ok())
            .with_context(|| format!("no VmRSS in {path}"))?;
        Ok(kib * 1024.0 / 1e6)
    }

    pub fn send_sigterm(&self) -> anyhow::Result<()> {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .context("cannot run kill")?;
        if !status.success() {
            bail!("kill -TERM {pid} failed");
        }
        Ok(())
    }

    /// Waits up to `patience` for the server to exit.
    pub fn wait(&mut self, patience: Duration) -> anyhow::Result<ExitStatus> {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Ok(status);
            }
            if started.elapsed() > patience {
                bail!("the server did not exit: {:?}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
