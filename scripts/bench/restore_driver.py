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
import sqlite3
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


TICKS = os.sysconf("SC_CLK_TCK")


def cpu_s(pid):
    """User plus system CPU seconds `pid` has used so far, all its threads."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICKS
    except (OSError, IndexError, ValueError):
        return 0.0


class Timed:
    """What one timed command cost: wall seconds, the summed peak RSS in KiB
    of it and its children, the same of watch_pid's children while it ran,
    CPU seconds of each side, and the command's output."""

    def __init__(self, wall, own_kb, watched_kb, own_cpu, watched_cpu, out):
        self.wall, self.own_kb, self.watched_kb = wall, own_kb, watched_kb
        self.own_cpu, self.watched_cpu, self.out = own_cpu, watched_cpu, out


def timed(argv, watch_pid=None):
    """Runs argv. Peaks are VmHWM polled every 10 ms (rusage would count the
    forked Python before the exec); the CPU of watch_pid's children is the
    last value polled (a child's last 10 ms may be missed), the command's own
    comes from rusage."""
    peaks, own, watched_cpu = {}, {}, {}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        start = time.monotonic()
        p = subprocess.Popen(argv, stdout=out, stderr=err, text=True)
        while True:
            for c in [p.pid] + descendants(p.pid):
                own[c] = max(own.get(c, 0), vm_hwm_kb(c))
            if watch_pid is not None:
                for c in descendants(watch_pid):
                    peaks[c] = max(peaks.get(c, 0), vm_hwm_kb(c))
                    watched_cpu[c] = max(watched_cpu.get(c, 0.0), cpu_s(c))
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
        return Timed(wall, sum(own.values()), sum(peaks.values()),
                     usage.ru_utime + usage.ru_stime, sum(watched_cpu.values()), out.read())


# ---- workloads ---------------------------------------------------------------

def file_sizes(rng, count, total, mu=8.5, sigma=2.0):
    """`count` sizes that add up to about `total`, log-normally spread (by
    default like a web/app data directory: mostly small, a few large)."""
    raw = [rng.lognormvariate(mu, sigma) for _ in range(count)]
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


def date_later(path, mtime=None):
    """Dates `path` LATER after `mtime` (by default, its own)."""
    t = (os.stat(path).st_mtime if mtime is None else mtime) + LATER
    os.utime(path, (t, t))


def edit_in_place(path, rng, spots, spot_bytes):
    size = os.path.getsize(path)
    if size > 0:
        with open(path, "r+b") as f:
            for _ in range(spots):
                off = rng.randrange(0, max(1, size - spot_bytes))
                f.seek(off)
                f.write(random_bytes(rng, min(spot_bytes, size - off)))
    date_later(path)


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
        date_later(path)


def database_change(old, new, rng, size):
    run(["cp", "-a", old + "/.", new])
    path = os.path.join(new, "db.bin")
    changed = size // 1000
    spot = 4096
    edit_in_place(path, rng, max(1, changed // spot), spot)


WORDS = ("static const int return if else for while struct void char size_t "
         "uint64_t std string view status result error path entry file the of a to "
         "and is in that it with as on be at by this from or not are").split()


def text_pool(rng, size):
    """Source-like text: lines of a few words, indented, as code is."""
    lines, n = [], 0
    while n < size:
        line = "    " * rng.randint(0, 3) + " ".join(rng.choices(WORDS, k=rng.randint(1, 12)))
        lines.append(line)
        n += len(line) + 1
    return ("\n".join(lines) + "\n").encode()


def make_source_tree(root, rng, count, total):
    """A tree like a large source checkout: `count` small text files, most
    of a few KiB, in directories up to 8 deep, and a few symlinks."""
    dirs = ["src", "include", "lib", "tests", "docs"]
    depth = {d: 1 for d in dirs}
    for i in range(max(5, count // 40) - len(dirs)):
        parent = rng.choice(dirs)
        while depth[parent] >= 8:
            parent = rng.choice(dirs)
        d = f"{parent}/{rng.choice(WORDS)}{i}"
        dirs.append(d)
        depth[d] = depth[parent] + 1
    for d in dirs:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    pool = text_pool(rng, 8 * MIB)
    paths = []
    for i, size in enumerate(file_sizes(rng, count, total, 7.5, 1.2)):
        size = min(len(pool) // 2, size)
        at = rng.randrange(0, len(pool) - size)
        path = f"{rng.choice(dirs)}/{rng.choice(WORDS)}_{i}.{rng.choice(('c', 'h', 'py', 'md'))}"
        with open(os.path.join(root, path), "wb") as f:
            f.write(pool[at:at + size])
        paths.append(path)
    for i in range(max(1, count // 500)):  # relative links to a file beside them
        target = rng.choice(paths)
        os.symlink(os.path.basename(target),
                   os.path.join(root, os.path.dirname(target), f"link{i}"))
    return paths


def touch_some(old, new, paths, rng, fraction):
    run(["cp", "-a", old + "/.", new])
    for p in rng.sample(paths, max(1, int(len(paths) * fraction))):
        date_later(os.path.join(new, p))


def edit_some(old, new, paths, rng, fraction):
    """A line replaced and one added in a `fraction` of the files, as a
    month of commits might."""
    run(["cp", "-a", old + "/.", new])
    for p in rng.sample(paths, max(1, int(len(paths) * fraction))):
        path = os.path.join(new, p)
        with open(path, "rb") as f:
            data = f.read()
        at = rng.randrange(0, len(data) + 1)
        cut = data.find(b"\n", at)
        cut = len(data) if cut < 0 else cut
        data = data[:at] + f"edited {rng.random()}\n{rng.choice(WORDS)} added\n".encode() + data[cut:]
        mtime = os.stat(path).st_mtime
        with open(path, "wb") as f:
            f.write(data)
        date_later(path, mtime)


def make_database(path, rng, size):
    """A sqlite database of about `size` bytes: a table of rows of ~800 bytes
    with an index, as an application's would be. Returns its row count."""
    rows = max(1000, size // 800)
    con = sqlite3.connect(path)
    con.execute("PRAGMA page_size = 4096")
    con.execute("PRAGMA journal_mode = OFF")
    con.execute("PRAGMA synchronous = OFF")
    con.execute("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT, n INTEGER, body BLOB)")
    con.execute("CREATE INDEX item_name ON item (name)")
    for first in range(1, rows + 1, 10000):
        con.executemany("INSERT INTO item VALUES (?, ?, ?, ?)",
                        ((i, rng.randbytes(8).hex(), i, rng.randbytes(700))
                         for i in range(first, min(rows + 1, first + 10000))))
    con.commit()
    con.close()
    return rows


def change_database(old, new, rng, rows, scale):
    """Real SQL transactions on a copy: UPDATE 0.1% of the rows at random,
    INSERT 1,000 rows, DELETE 500 (at scale 1)."""
    run(["cp", "-a", old + "/.", new])
    con = sqlite3.connect(os.path.join(new, "db.sqlite"))
    with con:
        con.executemany("UPDATE item SET n = n + 1, body = ? WHERE id = ?",
                        ((rng.randbytes(700), i) for i in rng.sample(range(1, rows + 1),
                                                                      max(1, rows // 1000))))
    with con:
        con.executemany("INSERT INTO item (name, n, body) VALUES (?, ?, ?)",
                        ((rng.randbytes(8).hex(), i, rng.randbytes(700))
                         for i in range(max(1, int(1000 * scale)))))
    with con:
        con.executemany("DELETE FROM item WHERE id = ?",
                        ((i,) for i in rng.sample(range(1, rows + 1), max(1, int(500 * scale)))))
    con.close()


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
            # Without a chroot the daemon rewrites symlink targets ("munge
            # symlinks") and maps owners by name unless told not to.
            f.write(f"pid file = {work}/rsyncd.pid\nuse chroot = no\n"
                    "munge symlinks = no\nnumeric ids = yes\n"
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
        t = timed([STANDBYCTL, "--config", self.config(source, verify_every),
                   "restore", "--standby", "bench-standby", "--json"])
        agent_kb = vm_hwm_kb(self.agent.pid)
        agent_cpu = cpu_s(self.agent.pid)
        self.stop_agent()
        report = json.loads(t.out)[0]
        verify = report.get("verify") or {}
        return {"wall": t.wall, "wire": report["bytes_wire"], "mem_kb": t.own_kb + agent_kb,
                "mem_controller_kb": t.own_kb, "mem_agent_kb": agent_kb,
                "cpu_sender": t.own_cpu, "cpu_receiver": agent_cpu,
                "reread": verify.get("reread_bytes", 0),
                "steps": {k: report[k] for k in ("scan_ms", "plan_ms", "transfer_ms",
                                                 "commit_ms")}}

    def rsync(self, start_state, source, extract_from=None):
        run(["rsync", "-aH", "--delete", start_state + "/", self.rsync_target + "/"])
        extract_wall = extract_cpu = 0.0
        if extract_from is not None:
            staged = os.path.join(self.work, "extracted")
            shutil.rmtree(staged, ignore_errors=True)
            os.makedirs(staged)
            t = timed(["tar", "--zstd", "-xf", extract_from, "-C", staged])
            extract_wall, extract_cpu = t.wall, t.own_cpu
            source = staged
        t = timed(["rsync", "-aH", "--delete", "--no-whole-file", "--stats", source + "/",
                   f"rsync://127.0.0.1:{self.rsync_port}/target/"], watch_pid=self.daemon.pid)
        sent = int(re.search(r"Total bytes sent: ([\d,]+)", t.out).group(1).replace(",", ""))
        got = int(re.search(r"Total bytes received: ([\d,]+)", t.out).group(1).replace(",", ""))
        return {"wall": t.wall + extract_wall, "wire": sent + got,
                "mem_kb": t.own_kb + t.watched_kb, "cpu_sender": t.own_cpu + extract_cpu,
                "cpu_receiver": t.watched_cpu}

    def check(self, expected):
        """Exits unless both targets hold exactly `expected` (a tree): the
        same entries, types, bytes (compared, not assumed from size and
        time), symlink targets, modes, times, owners and hard links. The
        targets' own directories and ours' staging directory aside."""
        for target in (self.ours_target, self.rsync_target):
            r = run(["rsync", "-aHnc", "--delete", "--numeric-ids", "--itemize-changes",
                     "--exclude=/.standbyctl-staging", expected + "/", target + "/"])
            wrong = [line for line in r.stdout.splitlines() if line and not line.endswith(" ./")]
            if wrong:
                sys.exit(f"{target} differs from {expected}:\n" + "\n".join(wrong[:20]))


WORKLOADS = {"W1": "monthly", "W2": "database", "W3": "nothing changed", "W4": "from archive",
             "W5cold": "tree, cold", "W5same": "tree, same", "W5touched": "tree, 1% touched",
             "W5edited": "tree, 1% edited", "W6": "sqlite by SQL"}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--scale", type=float, default=1.0,
                    help="fraction of the workloads' sizes (1.0: 20,000 files, 1 GiB, 2 GiB)")
    ap.add_argument("--only", default=",".join(WORKLOADS))
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("--verify-overhead", action="store_true",
                    help="also time ours with verify_every = 0 (no re-read of the target's "
                         "unchanged files), interleaved, and print the ratio")
    args = ap.parse_args()
    unknown = [w for w in args.only.split(",") if w not in WORKLOADS]
    if unknown:
        ap.error(f"--only: no workload {', '.join(unknown)} (there are {', '.join(WORKLOADS)})")
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
        if {"W5cold", "W5same", "W5touched", "W5edited"} & set(only):
            old, empty = os.path.join(work, "w5-old"), os.path.join(work, "w5-empty")
            touched, edited = os.path.join(work, "w5-touched"), os.path.join(work, "w5-edited")
            for d in (empty, touched, edited):
                os.makedirs(d)
            paths = make_source_tree(old, rng, max(500, int(100000 * args.scale)),
                                     int(400 * MIB * args.scale))
            touch_some(old, touched, paths, rng, 0.01)
            edit_some(old, edited, paths, rng, 0.01)
            trees.update({"W5cold": (empty, old), "W5same": (old, old),
                          "W5touched": (old, touched), "W5edited": (old, edited)})
        if "W6" in only:
            old, new = os.path.join(work, "w6-old"), os.path.join(work, "w6-new")
            os.makedirs(old)
            os.makedirs(new)
            rows = make_database(os.path.join(old, "db.sqlite"), rng, int(1024 * MIB * args.scale))
            change_database(old, new, rng, rows, args.scale)
            trees["W6"] = (old, new)
        results = {}
        print(f"{'workload':<26} {'tool':<8} {'wall s':>8} {'wire MiB':>10} {'peak MiB':>9} "
              f"{'cpu s send/recv':>16}")
        for w in only:
            start, source = trees[w]
            ours, theirs, plain = [], [], []
            for i in range(args.runs):  # interleaved, so drift in the machine hits both
                ours.append(setup.ours(start, source))
                theirs.append(setup.rsync(start, source,
                                          extract_from=source if w == "W4" else None))
                if i == 0:  # both results are the source, exactly
                    setup.check(trees["W1"][1] if w == "W4" else source)
                if args.verify_overhead:
                    plain.append(setup.ours(start, source, verify_every=0))
            med = lambda rs, k: statistics.median(r[k] for r in rs)
            keys = ("wall", "wire", "mem_kb", "cpu_sender", "cpu_receiver")
            o = {k: med(ours, k) for k in keys}
            t = {k: med(theirs, k) for k in keys}
            for name, r in (("ours", o), ("rsync", t)):
                print(f"{w + ' ' + WORKLOADS[w]:<26} {name:<8} {r['wall']:>8.2f} "
                      f"{r['wire'] / MIB:>10.2f} {r['mem_kb'] / 1024:>9.1f} "
                      f"{r['cpu_sender']:>8.2f}/{r['cpu_receiver']:<7.2f}")
            steps = {k: statistics.median(r["steps"][k] for r in ours) for k in ours[0]["steps"]}
            print(f"{'':<26} {'ours':<8} " +
                  ", ".join(f"{k[:-3]} {v / 1000:.2f} s" for k, v in steps.items()))
            if plain:
                p = {k: med(plain, k) for k in ("wall", "mem_kb")}
                reread = statistics.median(r["reread"] for r in ours)
                psteps = {k: statistics.median(r["steps"][k] for r in plain)
                          for k in plain[0]["steps"]}
                print(f"{'':<26} {'ours, no re-read':<16} {p['wall']:>8.2f} s (" +
                      ", ".join(f"{k[:-3]} {v / 1000:.2f} s" for k, v in psteps.items()) +
                      f"); the re-read ({reread / MIB:.1f} MiB) costs "
                      f"{o['wall'] / p['wall']:.3f}x wall, {o['mem_kb'] / p['mem_kb']:.3f}x memory")
                results.update({f"{w}.noverify_wall_s": round(p["wall"], 3),
                                f"{w}.reread_bytes": int(reread),
                                f"{w}.verify_wall_ratio": round(o["wall"] / p["wall"], 3)})
            ratio = {k: (o[k] / t[k] if t[k] else 0.0) for k in ("wall", "wire", "mem_kb")}
            print(f"{'':<26} {'ratio':<8} {ratio['wall']:>8.2f} {ratio['wire']:>10.2f} "
                  f"{ratio['mem_kb']:>9.2f}")
            results.update({f"{w}.ours_wall_s": round(o["wall"], 3),
                            f"{w}.rsync_wall_s": round(t["wall"], 3),
                            f"{w}.ours_wire_bytes": int(o["wire"]),
                            f"{w}.rsync_wire_bytes": int(t["wire"]),
                            f"{w}.ours_mem_kb": int(o["mem_kb"]),
                            f"{w}.rsync_mem_kb": int(t["mem_kb"]),
                            f"{w}.wall_ratio": round(ratio["wall"], 3),
                            f"{w}.wire_ratio": round(ratio["wire"], 3),
                            f"{w}.mem_ratio": round(ratio["mem_kb"], 3),
                            f"{w}.ours_mem_controller_kb": int(med(ours, "mem_controller_kb")),
                            f"{w}.ours_mem_agent_kb": int(med(ours, "mem_agent_kb")),
                            f"{w}.ours_cpu_sender_s": round(o["cpu_sender"], 3),
                            f"{w}.ours_cpu_receiver_s": round(o["cpu_receiver"], 3),
                            f"{w}.rsync_cpu_sender_s": round(t["cpu_sender"], 3),
                            f"{w}.rsync_cpu_receiver_s": round(t["cpu_receiver"], 3)})
        results.update({"runs": args.runs, "scale": args.scale, "seed": args.seed})
        print(json.dumps(results))
    finally:
        if setup is not None:
            setup.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
