#include "tests/support/backup_tree.h"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>

#include "tests/support/standbyctl_runner.h"

namespace sb::testing {

void MakeBackupTree(const TempDir& dir, const std::string& name) {
  dir.Write(name + "/www/index.html", "<h1>hello</h1>\n", 0644);
  dir.Write(name + "/www/app/config.ini", "[app]\nport = 8080\n", 0600);
  std::string big(100'000, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7919 % 251);
  dir.Write(name + "/data.bin", big, 0640);
  REQUIRE(::mkdir(dir.Sub(name + "/empty").c_str(), 0750) == 0);
  REQUIRE(::symlink("www/index.html", dir.Sub(name + "/current").c_str()) == 0);
}

void Sh(const std::string& script) { RunOrFail({"/bin/sh", "-ec", script}); }

void WholeSecondTimes(const std::string& root, bool spread) {
  RunOrFail({"python3", "-c", R"py(
import os, sys, time, zlib
root, spread = sys.argv[1], sys.argv[2] == "1"
for d, dirs, files in os.walk(root, topdown=False):
    for n in dirs + files:
        p = os.path.join(d, n)
        if spread:
            s = 1700000000 + zlib.crc32(os.path.relpath(p, root).encode()) % 10000000
        else:
            s = os.lstat(p).st_mtime_ns // 10**9
            if s > time.time() - 3600: s -= 3600
        os.utime(p, ns=(s * 10**9, s * 10**9), follow_symlinks=False)
)py",
             root, spread ? "1" : "0"});
}

void MakeOldTree(const TempDir& dir) {
  std::string big;
  for (size_t i = 0; i < 300'000; ++i) big.push_back(static_cast<char>((i * 7919) % 251));
  dir.Write("old/www/index.html", "<h1>v1</h1>\n");
  dir.Write("old/www/app/config.ini", "secret=1\n", 0600);
  dir.Write("old/www/space name ü.txt", "unicode\n");
  dir.Write("old/db/data.bin", big);
  dir.Write("old/db/same.bin", big.substr(0, 100'000));
  std::string large;  // large enough to be patched in place
  for (size_t i = 0; i < (5u << 20); ++i) large.push_back(static_cast<char>((i * 104729) % 241));
  dir.Write("old/db/large.bin", large);
  dir.Write("old/logs/a.log", "a\n");
  dir.Write("old/logs/b.log", "b\n");
  dir.Write("old/becomes-dir", "file now\n");
  dir.Write("old/becomes-file/inner.txt", "dir now\n");
  dir.Write("old/becomes-link", "file now\n");
  dir.Write("old/mode-only.sh", "#!/bin/sh\n", 0644);
  Sh("cd " + dir.Sub("old") + " && mkdir -m 0750 empty && ln -s www/index.html current && " +
     "ln www/index.html www/index-hard.html && chown 1234:5678 www/app/config.ini");
  for (int i = 0; i < 20; ++i) {
    dir.Write("old/many/f" + std::to_string(i) + ".txt", std::string(100 + i, 'm'));
  }
  WholeSecondTimes(dir.Sub("old"), true);
}

void MakeNewTree(const TempDir& dir) {
  RunOrFail({"rsync", "-aH", dir.Sub("old") + "/", dir.Sub("src") + "/"});
  Sh("cd " + dir.Sub("src") +
     " && printf '<h1>v2</h1>\\n' > www/index.html"  // small edit (whole)
     " && printf 'X' | dd of=db/data.bin bs=1 seek=150000 conv=notrunc status=none"  // delta
     " && printf 'YY' | dd of=db/large.bin bs=1 seek=4000000 conv=notrunc status=none"
     " && printf 'appended' >> db/large.bin"  // a patch in place
     " && rm -r logs"                         // a directory with contents
     " && rm becomes-dir && mkdir becomes-dir && echo in > becomes-dir/x"
     " && rm -r becomes-file && echo was-dir > becomes-file"
     " && rm becomes-link && ln -s www becomes-link"
     " && chmod 0755 mode-only.sh"
     " && mkdir -p new/deep/er && echo new > new/deep/er/n.txt"
     " && ln db/same.bin db/same-hard.bin"
     " && rm many/f3.txt many/f4.txt && echo changed > many/f5.txt"
     " && chown 4321:8765 new/deep/er/n.txt");
  WholeSecondTimes(dir.Sub("src"), false);
}

void CraftArchive(const std::string& path, const std::string& kind) {
  static constexpr const char* kScript = R"py(
import io, sys, tarfile
path, kind = sys.argv[1], sys.argv[2]
with tarfile.open(path, "w") as t:
    def add(name, type=tarfile.REGTYPE, data=b"x", link=""):
        i = tarfile.TarInfo(name); i.type = type; i.linkname = link
        i.size = len(data) if type == tarfile.REGTYPE else 0
        t.addfile(i, io.BytesIO(data) if type == tarfile.REGTYPE else None)
    if kind == "hardlink-etc":
        add("ok.txt"); add("passwd", tarfile.LNKTYPE, link="/etc/passwd")
    elif kind == "hardlink-later":
        add("a", tarfile.LNKTYPE, link="b"); add("b")
    elif kind == "device":
        i = tarfile.TarInfo("dev/mem"); i.type = tarfile.CHRTYPE; i.devmajor = 1; i.devminor = 1
        t.addfile(i)
    elif kind == "symlink-then-file":
        add("etc", tarfile.SYMTYPE, link="/etc"); add("etc/cron.d/evil", data=b"* * * * * root sh\n")
    elif kind == "dotdot":
        add("www/../../outside")
    elif kind == "twice":
        add("x"); add("x", data=b"y")
    elif kind == "file-then-dir":
        add("x"); add("x", tarfile.DIRTYPE)
    elif kind == "dot-slash":
        add("./x"); add("x")
    elif kind == "hardlink-dir":
        add("d", tarfile.DIRTYPE); add("x", tarfile.LNKTYPE, link="d")
    elif kind == "hardlink-symlink":
        add("s", tarfile.SYMTYPE, link="t"); add("x", tarfile.LNKTYPE, link="s")
    elif kind == "hardlink-self":
        add("x"); add("y", tarfile.LNKTYPE, link="y")
    elif kind == "long-name":
        add("a/" + "n" * 300)
    elif kind == "staging":
        add(".standbyctl-staging/f0")
    elif kind == "long-symlink":
        add("s", tarfile.SYMTYPE, link="x" * 5000)
    else:
        sys.exit("unknown kind " + kind)
)py";
  RunOrFail({"python3", "-c", kScript, path, kind});
}

}  // namespace sb::testing
