//! `palisade install`: register palisade as a runtime of containerd (a `palisade` handler
//! through the runc shim with `BinaryName`) and of Docker (`daemon.json`'s `runtimes`).

use std::path::PathBuf;

use anyhow::Context;

#[derive(clap::Args)]
pub struct Args {
    /// Print what would be written instead of writing it.
    #[arg(long)]
    dry_run: bool,
    /// containerd's configuration file.
    #[arg(long, default_value = "/etc/containerd/config.toml")]
    containerd_config: PathBuf,
    /// Docker's daemon configuration.
    #[arg(long, default_value = "/etc/docker/daemon.json")]
    docker_config: PathBuf,
    /// Runtime name (containerd handler and Docker runtime).
    #[arg(long, default_value = "palisade")]
    name: String,
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    let exe = std::env::current_exe().context("finding the palisade binary")?;
    // Every sandbox starts the gofer from next to this binary: refuse to register a runtime
    // that could not start one.
    crate::cmd_gofer::binary()?;
    let exe = exe.to_string_lossy();
    let marker = format!("# added by palisade install ({})", args.name);
    let entry = format!(
        "\n{marker}\n[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.{0}]\n  \
         runtime_type = \"io.containerd.runc.v2\"\n\
         [plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.{0}.options]\n  \
         BinaryName = \"{exe}\"\n",
        args.name
    );
    let mut docker: serde_json::Value = match std::fs::read(&args.docker_config) {
        Ok(t) => crate::oci::parse_json(&t)
            .with_context(|| format!("{}", args.docker_config.display()))?,
        Err(_) => serde_json::json!({}),
    };
    if !docker.is_object() {
        anyhow::bail!("{}: not a JSON object", args.docker_config.display());
    }
    docker["runtimes"][&args.name] = serde_json::json!({ "path": exe });
    let docker_text = serde_json::to_string_pretty(&docker)?;
    if args.dry_run {
        println!("# {}:{entry}", args.containerd_config.display());
        println!("# {}:\n{docker_text}", args.docker_config.display());
        return Ok(0);
    }
    let current = std::fs::read_to_string(&args.containerd_config).unwrap_or_default();
    if current.contains(&marker) {
        println!(
            "{}: already has the {} runtime",
            args.containerd_config.display(),
            args.name
        );
    } else {
        if let Some(d) = args.containerd_config.parent() {
            std::fs::create_dir_all(d)?;
        }
        let text = if current.is_empty() {
            format!("version = 2\n{entry}")
        } else {
            format!("{current}{entry}")
        };
        std::fs::write(&args.containerd_config, text)
            .with_context(|| format!("writing {}", args.containerd_config.display()))?;
        println!(
            "{}: added the {} runtime",
            args.containerd_config.display(),
            args.name
        );
    }
    if let Some(d) = args.docker_config.parent() {
        std::fs::create_dir_all(d)?;
    }
    std::fs::write(&args.docker_config, docker_text + "\n")
        .with_context(|| format!("writing {}", args.docker_config.display()))?;
    println!(
        "{}: added the {} runtime",
        args.docker_config.display(),
        args.name
    );
    println!("restart containerd (and dockerd) to use it");
    Ok(0)
}
