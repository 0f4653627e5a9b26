//! The container's `linux.seccomp` profile, compiled (with `seccompiler`) into the classic
//! BPF programs the sentry runs before each of the container's syscalls, as runc has the host
//! kernel run them.
//!
//! A profile lists syscalls (with argument conditions) and an action for each, and a default
//! action; one BPF filter per action would give "the first matching rule" only if every
//! syscall had a single action. Linux runs all of a task's filters and keeps the verdict with
//! the highest precedence, so the profile becomes: one filter that allows every listed
//! syscall (under its conditions) and applies the default action to the rest, and one filter
//! per other action that applies it to its syscalls and allows everything else. A listed
//! syscall thus gets its own action, an unlisted one the default.

use std::collections::BTreeMap;

use anyhow::{bail, Context};
use oci_spec::runtime::{LinuxSeccomp, LinuxSeccompAction, LinuxSeccompOperator};
use seccompiler::{
    SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
    TargetArch,
};

/// One classic BPF instruction, as it crosses to the sandbox: (code, jt, jf, k).
pub type Insn = (u16, u8, u8, u32);

/// The action a profile entry names, with its errno (EPERM unless given).
fn action(a: LinuxSeccompAction, errno: Option<u32>, field: &str) -> anyhow::Result<SeccompAction> {
    let errno = errno.unwrap_or(libc::EPERM as u32);
    Ok(match a {
        LinuxSeccompAction::ScmpActAllow => SeccompAction::Allow,
        LinuxSeccompAction::ScmpActErrno => SeccompAction::Errno(errno),
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            SeccompAction::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => SeccompAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => SeccompAction::Trap,
        LinuxSeccompAction::ScmpActLog => SeccompAction::Log,
        LinuxSeccompAction::ScmpActTrace => SeccompAction::Trace(errno),
        LinuxSeccompAction::ScmpActNotify => {
            bail!("{field}: SCMP_ACT_NOTIFY is not supported (no user-space notification)")
        }
    })
}

/// The programs for `profile`, oldest first (each is installed on top of the previous).
pub fn compile(profile: &LinuxSeccomp) -> anyhow::Result<Vec<Vec<Insn>>> {
    if profile.listener_path().is_some() {
        bail!("linux.seccomp.listenerPath: user-space notification is not supported");
    }
    let default = action(
        profile.default_action(),
        profile.default_errno_ret(),
        "linux.seccomp.defaultAction",
    )?;
    // Syscall numbers by name, from the sentry's table.
    let numbers: std::collections::HashMap<&str, i64> = sentry::syscalls::table::coverage()
        .into_iter()
        .map(|e| (e.name, e.nr as i64))
        .collect();
    // Every listed syscall's rules, and the same by action.
    let mut listed: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    let mut by_action: Vec<(SeccompAction, BTreeMap<i64, Vec<SeccompRule>>)> = Vec::new();
    for (i, entry) in profile.syscalls().iter().flatten().enumerate() {
        let field = format!("linux.seccomp.syscalls[{i}]");
        let act = action(entry.action(), entry.errno_ret(), &field)?;
        let mut conditions = Vec::new();
        for (j, arg) in entry.args().iter().flatten().enumerate() {
            let op = match arg.op() {
                LinuxSeccompOperator::ScmpCmpNe => SeccompCmpOp::Ne,
                LinuxSeccompOperator::ScmpCmpLt => SeccompCmpOp::Lt,
                LinuxSeccompOperator::ScmpCmpLe => SeccompCmpOp::Le,
                LinuxSeccompOperator::ScmpCmpEq => SeccompCmpOp::Eq,
                LinuxSeccompOperator::ScmpCmpGe => SeccompCmpOp::Ge,
                LinuxSeccompOperator::ScmpCmpGt => SeccompCmpOp::Gt,
                LinuxSeccompOperator::ScmpCmpMaskedEq => SeccompCmpOp::MaskedEq(arg.value()),
            };
            // MASKED_EQ compares the masked argument with valueTwo.
            let value = match arg.op() {
                LinuxSeccompOperator::ScmpCmpMaskedEq => arg.value_two().unwrap_or(0),
                _ => arg.value(),
            };
            let index = u8::try_from(arg.index())
                .ok()
                .filter(|&x| x < 6)
                .with_context(|| format!("{field}.args[{j}].index: {}", arg.index()))?;
            let c = SeccompCondition::new(index, SeccompCmpArgLen::Qword, op, value)
                .map_err(|e| anyhow::anyhow!("{field}.args[{j}]: {e}"))?;
            conditions.push(c);
        }
        let rule = || -> anyhow::Result<Vec<SeccompRule>> {
            if conditions.is_empty() {
                // No conditions: the syscall matches whatever its arguments.
                return Ok(Vec::new());
            }
            let r = SeccompRule::new(conditions.clone())
                .map_err(|e| anyhow::anyhow!("{field}: {e}"))?;
            Ok(vec![r])
        };
        for name in entry.names() {
            let Some(&nr) = numbers.get(name.as_str()) else {
                // As runc: names the architecture does not have are left out.
                continue;
            };
            add(&mut listed, nr, rule()?);
            let i = match by_action.iter().position(|(a, _)| *a == act) {
                Some(i) => i,
                None => {
                    by_action.push((act.clone(), BTreeMap::new()));
                    by_action.len() - 1
                }
            };
            add(&mut by_action[i].1, nr, rule()?);
        }
    }
    let mut filters = Vec::new();
    if default != SeccompAction::Allow {
        filters.push(build(listed, default, SeccompAction::Allow)?);
    }
    for (act, rules) in by_action {
        if act != SeccompAction::Allow && !rules.is_empty() {
            filters.push(build(rules, SeccompAction::Allow, act)?);
        }
    }
    Ok(filters)
}

/// Add `rules` for `nr`: a syscall matched unconditionally (no rules) stays so.
fn add(map: &mut BTreeMap<i64, Vec<SeccompRule>>, nr: i64, rules: Vec<SeccompRule>) {
    match map.get_mut(&nr) {
        Some(existing) if existing.is_empty() => {}
        Some(_) if rules.is_empty() => {
            map.insert(nr, Vec::new());
        }
        Some(existing) => existing.extend(rules),
        None => {
            map.insert(nr, rules);
        }
    }
}

fn build(
    rules: BTreeMap<i64, Vec<SeccompRule>>,
    mismatch: SeccompAction,
    matched: SeccompAction,
) -> anyhow::Result<Vec<Insn>> {
    let filter = SeccompFilter::new(rules, mismatch, matched, TargetArch::x86_64)
        .map_err(|e| anyhow::anyhow!("linux.seccomp: {e}"))?;
    let prog: seccompiler::BpfProgram = filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| anyhow::anyhow!("linux.seccomp: {e}"))?;
    Ok(prog.iter().map(|i| (i.code, i.jt, i.jf, i.k)).collect())
}

/// The sentry's form of compiled programs.
pub fn to_sentry(progs: Vec<Vec<Insn>>) -> Vec<Vec<sentry::kernel::seccomp::SockFilter>> {
    progs
        .into_iter()
        .map(|p| {
            p.into_iter()
                .map(|(code, jt, jf, k)| sentry::kernel::seccomp::SockFilter { code, jt, jf, k })
                .collect()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use sentry::kernel::seccomp::{Filter, Verdict};

    fn chain(profile: serde_json::Value) -> std::sync::Arc<Filter> {
        let p: LinuxSeccomp = serde_json::from_value(profile).expect("profile");
        let mut chain = None;
        for prog in to_sentry(compile(&p).expect("compiles")) {
            chain = Some(Filter::new(prog, false, chain).expect("valid"));
        }
        chain.expect("filters")
    }

    fn verdict(f: &std::sync::Arc<Filter>, nr: i64, args: [u64; 6]) -> Verdict {
        f.evaluate(nr as u64, &args, 0)
    }

    #[test]
    fn an_allow_list_with_its_own_errnos_and_conditions() {
        let f = chain(serde_json::json!({
            "defaultAction": "SCMP_ACT_ERRNO",
            "syscalls": [
                {"names": ["read", "write", "no_such_syscall"], "action": "SCMP_ACT_ALLOW"},
                {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38},
                {"names": ["personality"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
                {"names": ["clone"], "action": "SCMP_ACT_ALLOW",
                 "args": [{"index": 0, "value": 0x7e020000u64, "valueTwo": 0,
                           "op": "SCMP_CMP_MASKED_EQ"}]},
                {"names": ["ptrace"], "action": "SCMP_ACT_KILL_PROCESS"}
            ]
        }));
        assert_eq!(verdict(&f, libc::SYS_read, [0; 6]), Verdict::Allow);
        assert_eq!(
            verdict(&f, libc::SYS_getpid, [0; 6]),
            Verdict::Errno(libc::EPERM)
        );
        assert_eq!(
            verdict(&f, libc::SYS_clone3, [0; 6]),
            Verdict::Errno(libc::ENOSYS)
        );
        assert_eq!(
            verdict(&f, libc::SYS_personality, [8, 0, 0, 0, 0, 0]),
            Verdict::Allow
        );
        assert_eq!(
            verdict(&f, libc::SYS_personality, [9, 0, 0, 0, 0, 0]),
            Verdict::Errno(libc::EPERM)
        );
        // clone without namespace flags is allowed, with CLONE_NEWUSER it is not.
        assert_eq!(
            verdict(&f, libc::SYS_clone, [0x11, 0, 0, 0, 0, 0]),
            Verdict::Allow
        );
        assert_eq!(
            verdict(&f, libc::SYS_clone, [0x1000_0011, 0, 0, 0, 0, 0]),
            Verdict::Errno(libc::EPERM)
        );
        assert_eq!(verdict(&f, libc::SYS_ptrace, [0; 6]), Verdict::KillProcess);
    }

    #[test]
    fn a_deny_list_and_what_is_refused() {
        let f = chain(serde_json::json!({
            "defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]
        }));
        assert_eq!(
            verdict(&f, libc::SYS_mkdir, [0; 6]),
            Verdict::Errno(libc::EACCES)
        );
        assert_eq!(verdict(&f, libc::SYS_mkdirat, [0; 6]), Verdict::Allow);
        let p: LinuxSeccomp = serde_json::from_value(serde_json::json!({
            "defaultAction": "SCMP_ACT_NOTIFY"
        }))
        .expect("profile");
        let e = compile(&p).expect_err("refused").to_string();
        assert!(e.contains("linux.seccomp.defaultAction"), "{e}");
    }
}
