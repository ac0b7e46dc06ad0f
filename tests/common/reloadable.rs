//! The real daemon in-process with a reload channel, for tests that
//! change its config while it runs.

/// The daemon in-process with a reload channel.
pub struct Reloadable {
    pub addr: std::net::SocketAddr,
    pub config_path: std::path::PathBuf,
    reload: tokio::sync::mpsc::Sender<()>,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), feedmerge::daemon::DaemonError>>,
}

impl Reloadable {
    /// Starts the real daemon with `make_config(listen_addr)`.
    pub async fn start(
        dir: &std::path::Path,
        make_config: impl FnOnce(std::net::SocketAddr) -> String,
    ) -> Reloadable {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let config_path = dir.join("feedmerge.toml");
        std::fs::write(&config_path, make_config(addr)).unwrap();
        let config =
            feedmerge::config::Config::load(&config_path).unwrap_or_else(|e| panic!("{e}"));
        let (reload, reloads) = tokio::sync::mpsc::channel(1);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(feedmerge::daemon::run_with_reloads(
            config,
            listener,
            async move {
                let _ = stopped.await;
            },
            reloads,
        ));
        Reloadable {
            addr,
            config_path,
            reload,
            stop,
            task,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// `/status` as JSON.
    pub async fn status(&self) -> serde_json::Value {
        let (_, _, body) = super::get(&self.url("/status")).await;
        serde_json::from_str(&body).expect("status json")
    }

    /// The `/status` entry of one source, if the store knows it.
    pub async fn source(&self, name: &str) -> Option<serde_json::Value> {
        let s = self.status().await;
        s["sources"]
            .as_array()?
            .iter()
            .find(|x| x["name"] == name)
            .cloned()
    }

    /// Replaces the config file as editors do (a new file renamed over
    /// the old) and asks for a reload.
    pub async fn reload_with(&self, config: &str) {
        let tmp = self.config_path.with_extension("toml.new");
        std::fs::write(&tmp, config).unwrap();
        std::fs::rename(&tmp, &self.config_path).unwrap();
        self.reload
            .send(())
            .await
            .expect("daemon listens for reloads");
    }

    /// Signals shutdown and waits (bounded) for a clean exit.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        let ended = tokio::time::timeout(std::time::Duration::from_secs(30), self.task)
            .await
            .expect("daemon stops within 30 s");
        ended.expect("no panic").expect("clean exit");
    }
}
