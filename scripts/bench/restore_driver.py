#!/usr/bin/env python3
"""Drives scripts/bench/restore: standbyctl restore against rsync, side by side.

Both tools work over loopback on the same machine: rsync -aH --delete
--no-whole-file to an rsync daemon started here on 127.0.0.1, standbyctl
restore to a standby-agent started here. Every run of either tool starts from
the same old target state. Prints per workload the medians of wall time,
bytes on the wire and peak memory of each tool and the ratios ours/rsync; the
last line is one JSON object with every figure.
"""

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
STANDBYCTL = os.path.join(ROOT, "build/standby/standbyctl")
AGENT = os.path.join(ROOT, "build/agent/standby-agent")
MIB = 1 << 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"nothing listens on 127.0.0.1:{port}")


def run(argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({r.returncode}):\n{r.stderr}")
    return r


def vm_hwm_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/task/{p}/children") as f:
                kids = [int(k) for k in f.read().split()]
        except OSError:
            kids = []
        out += kids
        todo += kids
    return out


def timed(argv, watch_pid=None):
    """Runs argv; returns (wall seconds, the summed peak RSS in KiB of it and
    its children, the same of watch_pid's children while it ran, stdout).
    Peaks are VmHWM polled every 10 ms (rusage would count the forked Python
    before the exec)."""
    peaks, own = {}, {}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.monotonic()
        p = subprocess.Popen(argv, stdout=out, stderr=err, text=True)
        while True:
            for c in [p.pid] + descendants(p.pid):
                own[c] = max(own.get(c, 0), vm_hwm_kb(c))
            if watch_pid is not None:
                for c in descendants(watch_pid):
                    peaks[c] = max(peaks.get(c, 0), vm_hwm_kb(c))
            pid, status, usage = os.wait4(p.pid, os.WNOHANG)
            if pid != 0:
                break
            time.sleep(0.01)
        wall = time.monotonic() - start
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if p.returncode != 0:
            sys.exit(f"{' '.join(argv)} failed ({p.returncode}):\n{err.read()}")
        return wall, sum(own.values()), sum(peaks.values()), out.read()


# ---- workloads ---------------------------------------------------------------

def file_sizes(rng, count, total):
    """Sizes spread like a web/app data directory: mostly small, a few large."""
    raw = [rng.lognormvariate(8.5, 2.0) for _ in range(count)]
    scale = total / sum(raw)
    return [max(0, int(r * scale)) for r in raw]


def random_bytes(rng, n):
    return rng.randbytes(n)


def make_tree(root, rng, count, total):
    dirs = [f"d{a:02d}/s{b:02d}" for a in range(20) for b in range(10)]
    for d in dirs:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    paths = []
    for i, size in enumerate(file_sizes(rng, count, total)):
        path = os.path.join(dirs[i % len(dirs)], f"f{i:06d}.dat")
        with open(os.path.join(root, path), "wb") as f:
            f.write(random_bytes(rng, size))
        paths.append(path)
    return paths


LATER = 86400  # edits are dated a day after the old tree, as a month later would be


def edit_in_place(path, rng, spots, spot_bytes):
    size = os.path.getsize(path)
    if size > 0:
        with open(path, "r+b") as f:
            for _ in range(spots):
                off = rng.randrange(0, max(1, size - spot_bytes))
                f.seek(off)
                f.write(random_bytes(rng, min(spot_bytes, size - off)))
    t = os.stat(path).st_mtime + LATER
    os.utime(path, (t, t))


def monthly_change(old, new, paths, rng, count, total):
    run(["cp", "-a", old + "/.", new])
    edited = rng.sample(paths, max(1, count * 2 // 100))
    for p in edited:
        edit_in_place(os.path.join(new, p), rng, rng.randint(1, 3), 64)
    for p in rng.sample(paths, max(1, count * 2 // 1000)):
        if p not in edited:
            os.unlink(os.path.join(new, p))
    avg = total // count
    for i in range(max(1, count * 5 // 1000)):
        path = os.path.join(new, f"d{i % 20:02d}", f"new{i:05d}.dat")
        with open(path, "wb") as f:
            f.write(random_bytes(rng, rng.randint(0, 2 * avg)))
        t = os.stat(path).st_mtime + LATER
        os.utime(path, (t, t))


def database_change(old, new, rng, size):
    run(["cp", "-a", old + "/.", new])
    path = os.path.join(new, "db.bin")
    changed = size // 1000
    spot = 4096
    edit_in_place(path, rng, max(1, changed // spot), spot)


# ---- the two tools -----------------------------------------------------------

class Setup:
    def __init__(self, work):
        self.work = work
        self.pki = os.path.join(work, "pki")
        run([STANDBYCTL, "pki", "init", self.pki])
        for role, name in (("controller", "controller"), ("agent", "bench-standby")):
            run([STANDBYCTL, "pki", "issue", "--dir", self.pki, "--role", role, "--name", name])
        self.agent_port = free_port()
        self.rsync_port = free_port()
        self.agent = None
        self.daemon = None
        self.ours_target = os.path.join(work, "ours-target")
        self.rsync_target = os.path.join(work, "rsync-target")
        for d in (self.ours_target, self.rsync_target):
            os.makedirs(d, exist_ok=True)
        with open(os.path.join(work, "agent.toml"), "w") as f:
            f.write(f'listen = "127.0.0.1:{self.agent_port}"\nrole = "standby"\n'
                    f'data_roots = ["{self.ours_target}"]\n'
                    f'state_dir = "{work}/agent-state"\nshutdown = ["true"]\n'
                    f'[tls]\nca = "{self.pki}/ca.crt"\ncert = "{self.pki}/bench-standby.crt"\n'
                    f'key = "{self.pki}/bench-standby.key"\n')
        with open(os.path.join(work, "rsyncd.conf"), "w") as f:
            f.write(f"pid file = {work}/rsyncd.pid\nuse chroot = no\n"
                    f"[target]\npath = {self.rsync_target}\nread only = no\n"
                    "uid = root\ngid = root\n")
        self.daemon = subprocess.Popen(
            ["rsync", "--daemon", "--no-detach", f"--config={work}/rsyncd.conf",
             "--address=127.0.0.1", f"--port={self.rsync_port}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.rsync_port)

    def config(self, source, verify_every=None):
        path = os.path.join(self.work, "standbyctl.toml")
        with open(path, "w") as f:
            f.write(f'[controller]\nstate_dir = "{self.work}/state"\n[controller.tls]\n'
                    f'ca = "{self.pki}/ca.crt"\ncert = "{self.pki}/controller.crt"\n'
                    f'key = "{self.pki}/controller.key"\n[[standby]]\nname = "bench-standby"\n'
                    f'agent = "127.0.0.1:{self.agent_port}"\n'
                    'power = { driver = "command", on = ["true"], off = ["true"], '
                    'status = ["true"] }\n'
                    f'[[standby.restore]]\nsource = "{source}"\ntarget = "{self.ours_target}"\n'
                    'keep_free = 0\n' +
                    (f'verify_every = {verify_every}\n' if verify_every is not None else ''))
        return path

    def start_agent(self):
        self.agent = subprocess.Popen([AGENT, "--config", os.path.join(self.work, "agent.toml")],
                                      stdout=subprocess.DEVNULL,
                                      stderr=open(os.path.join(self.work, "agent.log"), "a"))
        wait_port(self.agent_port)

    def stop_agent(self):
        if self.agent is not None:
            self.agent.send_signal(signal.SIGTERM)
            self.agent.wait(timeout=30)
            self.agent = None

    def close(self):
        self.stop_agent()
        if self.daemon is not None:
            self.daemon.send_signal(signal.SIGTERM)
            self.daemon.wait(timeout=30)

    def ours(self, start_state, source, verify_every=None):
        """One timed standbyctl restore of `source`, from `start_state`.
        verify_every: the mapping's setting for the timed restore (None: the
        default; 0: no re-read)."""
        self.start_agent()
        # Untimed: the target (and its hash cache) as a drill finds it; moving
        # it between workloads replaces all of it, as intended.
        run([STANDBYCTL, "--config", self.config(start_state), "restore", "--standby",
             "bench-standby", "--allow-mass-delete"])
        self.stop_agent()
        self.start_agent()  # fresh, so its peak memory is this restore's
        wall, rss, _, out = timed([STANDBYCTL, "--config", self.config(source, verify_every),
                                   "restore", "--standby", "bench-standby", "--json"])
        agent_kb = vm_hwm_kb(self.agent.pid)
        self.stop_agent()
        report = json.loads(out)[0]
        verify = report.get("verify") or {}
        return {"wall": wall, "wire": report["bytes_wire"], "mem_kb": rss + agent_kb,
                "reread": verify.get("reread_bytes", 0),
                "steps": {k: report[k] for k in ("scan_ms", "plan_ms", "transfer_ms",
                                                 "commit_ms")}}

    def rsync(self, start_state, source, extract_from=None):
        run(["rsync", "-aH", "--delete", start_state + "/", self.rsync_target + "/"])
        extract_wall = 0.0
        if extract_from is not None:
            staged = os.path.join(self.work, "extracted")
            shutil.rmtree(staged, ignore_errors=True)
            os.makedirs(staged)
            t = time.monotonic()
            run(["tar", "--zstd", "-xf", extract_from, "-C", staged])
            extract_wall = time.monotonic() - t
            source = staged
        wall, rss, daemon_kb, out = timed(
            ["rsync", "-aH", "--delete", "--no-whole-file", "--stats", source + "/",
             f"rsync://127.0.0.1:{self.rsync_port}/target/"], watch_pid=self.daemon.pid)
        sent = int(re.search(r"Total bytes sent: ([\d,]+)", out).group(1).replace(",", ""))
        got = int(re.search(r"Total bytes received: ([\d,]+)", out).group(1).replace(",", ""))
        return {"wall": wall + extract_wall, "wire": sent + got, "mem_kb": rss + daemon_kb}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0,
                    help="fraction of the workloads' sizes (1.0: 20,000 files, 1 GiB, 2 GiB)")
    ap.add_argument("--only", default="W1,W2,W3,W4")
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--verify-overhead", action="store_true",
                    help="also time ours with verify_every = 0 (no re-read of the target's "
                         "unchanged files), interleaved, and print the ratio")
    args = ap.parse_args()
    if os.geteuid() != 0:
        sys.exit("run as root: both tools restore owners")
    work = tempfile.mkdtemp(prefix="standbyctl-bench-")
    setup = None
    try:
        setup = Setup(work)
        rng = random.Random(args.seed)
        count = max(100, int(20000 * args.scale))
        total = int(1024 * MIB * args.scale)
        db_size = int(2048 * MIB * args.scale)
        only = args.only.split(",")
        trees = {}
        if {"W1", "W3", "W4"} & set(only):
            old, new = os.path.join(work, "w1-old"), os.path.join(work, "w1-new")
            os.makedirs(new)
            paths = make_tree(old, rng, count, total)
            monthly_change(old, new, paths, rng, count, total)
            trees["W1"] = (old, new)
            trees["W3"] = (new, new)
            archive = os.path.join(work, "w1-new.tar.zst")
            run(["tar", "-C", new, "--zstd", "-cf", archive, "."])
            trees["W4"] = (old, archive)
        if "W2" in only:
            old, new = os.path.join(work, "w2-old"), os.path.join(work, "w2-new")
            os.makedirs(old)
            os.makedirs(new)
            with open(os.path.join(old, "db.bin"), "wb") as f:
                left = db_size
                while left > 0:
                    n = min(left, 64 * MIB)
                    f.write(random_bytes(rng, n))
                    left -= n
            database_change(old, new, rng, db_size)
            trees["W2"] = (old, new)
        what = {"W1": "monthly", "W2": "database", "W3": "nothing changed", "W4": "from archive"}
        results = {}
        print(f"{'workload':<22} {'tool':<8} {'wall s':>8} {'wire MiB':>10} {'peak MiB':>9}")
        for w in only:
            start, source = trees[w]
            ours, theirs, plain = [], [], []
            for _ in range(args.runs):  # interleaved, so drift in the machine hits both
                ours.append(setup.ours(start, source))
                theirs.append(setup.rsync(start, source,
                                          extract_from=source if w == "W4" else None))
                if args.verify_overhead:
                    plain.append(setup.ours(start, source, verify_every=0))
            med = lambda rs, k: statistics.median(r[k] for r in rs)
            o = {k: med(ours, k) for k in ("wall", "wire", "mem_kb")}
            t = {k: med(theirs, k) for k in ("wall", "wire", "mem_kb")}
            for name, r in (("ours", o), ("rsync", t)):
                print(f"{w + ' ' + what[w]:<22} {name:<8} {r['wall']:>8.2f} "
                      f"{r['wire'] / MIB:>10.2f} {r['mem_kb'] / 1024:>9.1f}")
            steps = {k: statistics.median(r["steps"][k] for r in ours) for k in ours[0]["steps"]}
            print(f"{'':<22} {'ours':<8} " +
                  ", ".join(f"{k[:-3]} {v / 1000:.2f} s" for k, v in steps.items()))
            if plain:
                p = {k: med(plain, k) for k in ("wall", "mem_kb")}
                reread = statistics.median(r["reread"] for r in ours)
                psteps = {k: statistics.median(r["steps"][k] for r in plain)
                          for k in plain[0]["steps"]}
                print(f"{'':<22} {'ours, no re-read':<16} {p['wall']:>8.2f} s (" +
                      ", ".join(f"{k[:-3]} {v / 1000:.2f} s" for k, v in psteps.items()) +
                      f"); the re-read ({reread / MIB:.1f} MiB) costs "
                      f"{o['wall'] / p['wall']:.3f}x wall, {o['mem_kb'] / p['mem_kb']:.3f}x memory")
                results.update({f"{w}.noverify_wall_s": round(p["wall"], 3),
                                f"{w}.reread_bytes": int(reread),
                                f"{w}.verify_wall_ratio": round(o["wall"] / p["wall"], 3)})
            ratio = {k: (o[k] / t[k] if t[k] else 0.0) for k in ("wall", "wire", "mem_kb")}
            print(f"{'':<22} {'ratio':<8} {ratio['wall']:>8.2f} {ratio['wire']:>10.2f} "
                  f"{ratio['mem_kb']:>9.2f}")
            results.update({f"{w}.ours_wall_s": round(o["wall"], 3),
                            f"{w}.rsync_wall_s": round(t["wall"], 3),
                            f"{w}.ours_wire_bytes": int(o["wire"]),
                            f"{w}.rsync_wire_bytes": int(t["wire"]),
                            f"{w}.ours_mem_kb": int(o["mem_kb"]),
                            f"{w}.rsync_mem_kb": int(t["mem_kb"]),
                            f"{w}.wall_ratio": round(ratio["wall"], 3),
                            f"{w}.wire_ratio": round(ratio["wire"], 3),
                            f"{w}.mem_ratio": round(ratio["mem_kb"], 3)})
        results.update({"runs": args.runs, "scale": args.scale, "seed": args.seed})
        print(json.dumps(results))
    finally:
        if setup is not None:
            setup.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
