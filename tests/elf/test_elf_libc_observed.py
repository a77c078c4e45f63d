# SPDX-License-Identifier: MIT
"""The libc table checked against what glibc really does, one function at a time.

Each case is a tiny C program exercising one libc facility (stdio, dirent,
nss, locale, time zones, threads, spawn, sockets, temp files, dlopen, ...),
compiled here with gcc and recorded with ``strace -f``.  Every syscall the
run makes must be in the set ``inspect`` predicts for that binary; a miss
names the facility whose table rows are short.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from shimsim.elf import inspect_path

GCC = shutil.which("gcc")
STRACE = shutil.which("strace")
pytestmark = pytest.mark.skipif(GCC is None or STRACE is None, reason="needs gcc and strace")
LINE = re.compile(r"^\d+\s+(?:<\.\.\. )?([a-z_][a-z_0-9]*)(?:\(| resumed>)")

HEAD = """#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <dirent.h>
#include <pwd.h>
#include <grp.h>
#include <locale.h>
#include <time.h>
#include <pthread.h>
#include <spawn.h>
#include <signal.h>
#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <dlfcn.h>
#include <iconv.h>
#include <libintl.h>
#include <errno.h>
#include <err.h>
#include <ftw.h>
#include <glob.h>
#include <ifaddrs.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/sendfile.h>
#include <sys/statvfs.h>
#include <sys/random.h>
#include <sched.h>
#include <semaphore.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/inotify.h>
#include <sys/signalfd.h>
#include <sys/select.h>
#include <sys/utsname.h>
#include <sys/times.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>
extern char **environ;
static int cb(const char *p, const struct stat *s, int f, struct FTW *w) { (void)p; (void)s; (void)f; (void)w; return 0; }
"""

CASES = {
    "stdio": 'FILE *f = fopen("/etc/passwd", "r"); char b[64]; while (fgets(b, sizeof b, f)) {} '
             'fseek(f, 0, SEEK_SET); fclose(f); printf("%d\\n", 1); fflush(stdout);',
    "dirent": 'DIR *d = opendir("/etc"); while (readdir(d)) {} rewinddir(d); closedir(d);',
    "nss": 'getpwnam("root"); getgrgid(0); getpwuid(0);',
    "locale": 'setlocale(LC_ALL, ""); setlocale(LC_ALL, "C.UTF-8");',
    "gettext": 'setlocale(LC_ALL, ""); bindtextdomain("x", "/nonexistent"); textdomain("x"); '
               'puts(gettext("hello")); puts(strerror(ENOENT));',
    "tz": 'time_t t = time(NULL); struct tm tm; localtime_r(&t, &tm); char b[64]; '
          'strftime(b, sizeof b, "%c %Z", &tm); mktime(&tm); puts(b);',
    "threads": 'pthread_t th; pthread_create(&th, NULL, (void *(*)(void *))sleep, NULL); pthread_join(th, NULL);',
    "spawn": 'pid_t p; char *a[] = {"/bin/true", NULL}; posix_spawn(&p, a[0], NULL, NULL, a, environ); '
             'waitpid(p, NULL, 0); system("true");',
    "fork": 'pid_t p = fork(); if (p == 0) _exit(0); waitpid(p, NULL, 0);',
    "popen": 'FILE *f = popen("echo hi", "r"); char b[16]; fgets(b, sizeof b, f); pclose(f);',
    "socket": 'int s = socket(AF_INET, SOCK_STREAM, 0); int one = 1; '
              'setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one); close(s);',
    "getaddrinfo": 'struct addrinfo *r; if (getaddrinfo("localhost", "80", NULL, &r) == 0) freeaddrinfo(r);',
    "tempfile": 'char t[] = "/tmp/ssXXXXXX"; int fd = mkstemp(t); unlink(t); close(fd); '
                'FILE *f = tmpfile(); fclose(f); char d[] = "/tmp/ssdXXXXXX"; rmdir(mkdtemp(d));',
    "realpath": 'char *p = realpath("/usr/bin/../bin", NULL); free(p); char b[256]; getcwd(b, sizeof b);',
    "stat": 'struct stat st; stat("/etc", &st); lstat("/etc", &st); fstat(0, &st); access("/etc", R_OK);',
    "malloc": 'for (int i = 0; i < 64; i++) free(malloc(1 << 20)); void *p = malloc(100); '
              'p = realloc(p, 1 << 22); free(p);',
    "signals": 'signal(SIGUSR1, SIG_IGN); struct sigaction sa = {0}; sigaction(SIGUSR2, &sa, NULL); '
               'sigset_t s; sigemptyset(&s); sigprocmask(SIG_BLOCK, &s, NULL); raise(SIGUSR1);',
    "syslog": 'openlog("t", LOG_PID, LOG_USER); syslog(LOG_INFO, "x"); closelog();',
    "dlopen": 'void *h = dlopen("libm.so.6", RTLD_NOW); if (h) { dlsym(h, "cos"); dlclose(h); }',
    "iconv": 'iconv_t c = iconv_open("UTF-16", "UTF-8"); if (c != (iconv_t)-1) iconv_close(c);',
    "sysconf": 'sysconf(_SC_NPROCESSORS_ONLN); sysconf(_SC_OPEN_MAX); sysconf(_SC_PHYS_PAGES);',
    "sleep": 'usleep(1000); struct timespec ts = {0, 1000}; nanosleep(&ts, NULL);',
    "exec": 'char *a[] = {"true", NULL}; execvp("true", a);',
    "abort": 'signal(SIGABRT, SIG_DFL); abort();',
    "getline": 'FILE *f = fopen("/etc/group", "r"); char *l = NULL; size_t n = 0; '
               'while (getline(&l, &n, f) > 0) {} free(l); fclose(f);',
    "nftw-glob-scandir": 'nftw("/etc/apt", cb, 8, FTW_PHYS); glob_t g; glob("/etc/*.conf", 0, NULL, &g); globfree(&g); '
                         'struct dirent **nl; int n = scandir("/etc", &nl, NULL, alphasort); '
                         'while (n-- > 0) free(nl[n]); free(nl);',
    "tty": 'isatty(0); ttyname(0); getlogin();',
    "ifaddrs": 'struct ifaddrs *a; if (getifaddrs(&a) == 0) freeifaddrs(a); char h[64]; gethostname(h, sizeof h);',
    "errors": 'errno = ENOENT; perror("x"); warn("w"); warnx("w"); fprintf(stderr, "%s\\n", strerror(EACCES));',
    "env-random": 'setenv("A", "b", 1); putenv("C=d"); unsetenv("A"); char b[16]; getrandom(b, sizeof b, 0); '
                  'getentropy(b, sizeof b); arc4random(); srand(1); rand();',
    "files": 'int fd = open("/tmp/ss-files", O_CREAT | O_RDWR, 0600); flock(fd, LOCK_EX); lockf(fd, F_TLOCK, 0); '
             'posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL); int in = open("/etc/passwd", O_RDONLY); '
             'sendfile(fd, in, NULL, 100); dup2(fd, 10); int p[2]; pipe(p); ftruncate(fd, 0); fsync(fd); '
             'void *m = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0); munmap(m, 4096); '
             'struct statvfs v; statvfs("/", &v); unlink("/tmp/ss-files");',
    "limits-sched": 'struct rlimit r; getrlimit(RLIMIT_NOFILE, &r); setrlimit(RLIMIT_NOFILE, &r); '
                    'cpu_set_t c; sched_getaffinity(0, sizeof c, &c); sched_yield(); getpriority(0, 0); '
                    'clock_t k = clock(); (void)k; struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);',
    "sync": 'sem_t s; sem_init(&s, 0, 1); sem_wait(&s); sem_post(&s); sem_destroy(&s); '
            'pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER; pthread_mutex_lock(&m); pthread_mutex_unlock(&m); '
            'pthread_cond_t cv = PTHREAD_COND_INITIALIZER; pthread_cond_signal(&cv); pthread_cond_broadcast(&cv);',
    "server": 'int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0); struct sockaddr_in a = {0}; '
              'a.sin_family = AF_INET; a.sin_addr.s_addr = htonl(INADDR_LOOPBACK); bind(s, (void *)&a, sizeof a); '
              'socklen_t l = sizeof a; getsockname(s, (void *)&a, &l); listen(s, 1); '
              'int c = socket(AF_INET, SOCK_STREAM, 0); connect(c, (void *)&a, sizeof a); int x = accept(s, 0, 0); '
              'send(c, "x", 1, 0); char b[4]; recv(x, b, 1, 0); shutdown(c, SHUT_RDWR); '
              'struct pollfd p = {x, POLLIN, 0}; poll(&p, 1, 0); fd_set f; FD_ZERO(&f); FD_SET(x, &f); '
              'struct timeval tv = {0, 0}; select(x + 1, &f, 0, 0, &tv); close(x); close(c); close(s);',
    "eventloop": 'int e = epoll_create1(0); int ev = eventfd(0, 0); struct epoll_event ee = {EPOLLIN, {0}}; '
                 'epoll_ctl(e, EPOLL_CTL_ADD, ev, &ee); epoll_wait(e, &ee, 1, 0); '
                 'int t = timerfd_create(CLOCK_MONOTONIC, 0); struct itimerspec it = {{0, 0}, {0, 1000}}; '
                 'timerfd_settime(t, 0, &it, NULL); int in = inotify_init1(0); inotify_add_watch(in, "/tmp", IN_CREATE); '
                 'sigset_t m; sigemptyset(&m); sigaddset(&m, SIGUSR1); int sf = signalfd(-1, &m, 0); '
                 'close(sf); close(in); close(t); close(ev); close(e);',
    "paths": 'mkdir("/tmp/ss-p", 0700); chmod("/tmp/ss-p", 0755); chown("/tmp/ss-p", 0, 0); '
             'symlink("/tmp/ss-p", "/tmp/ss-l"); char b[64]; readlink("/tmp/ss-l", b, sizeof b); '
             'rename("/tmp/ss-l", "/tmp/ss-m"); link("/etc/passwd", "/tmp/ss-h"); unlink("/tmp/ss-h"); '
             'unlink("/tmp/ss-m"); truncate("/tmp/nonexistent", 0); utimes("/tmp/ss-p", NULL); rmdir("/tmp/ss-p"); '
             'struct utsname u; uname(&u); struct tms t; times(&t); struct rusage r; getrusage(RUSAGE_SELF, &r);',
    "ids": 'getuid(); geteuid(); getgid(); getegid(); getpid(); getppid(); getpgrp(); getsid(0); '
           'gid_t g[64]; getgroups(64, g); setsid(); umask(022); chdir("/tmp"); setuid(getuid());',
}


def _trace(tmp: Path, exe: Path) -> set[str]:
    log = tmp / f"{exe.name}.strace"
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}
    subprocess.run([STRACE, "-f", "-qq", "-o", str(log), str(exe)], cwd=tmp, capture_output=True, timeout=60,
                   env={**env, "LANG": "C.UTF-8"})
    lines = log.read_text(errors="replace").splitlines()
    # stop following a child once it has exec'd another program: its calls are that program's
    out: set[str] = set()
    execd: set[str] = set()
    for line in lines:
        m = LINE.match(line)
        if not m:
            continue
        pid = line.split(None, 1)[0]
        if pid in execd:
            continue
        out.add(m.group(1))
        if m.group(1) == "execve" and " = 0" in line and len(out) > 1:
            execd.add(pid)
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_observed_calls_are_predicted(tmp_path, name):
    src = tmp_path / f"{name}.c"
    src.write_text(HEAD + "int main(void) {\n" + CASES[name] + "\nreturn 0;\n}\n")
    exe = tmp_path / name
    res = subprocess.run([GCC, "-O0", "-o", str(exe), str(src), "-lpthread", "-ldl"], capture_output=True,
                         text=True)
    assert res.returncode == 0, res.stderr
    seen = _trace(tmp_path, exe)
    assert "execve" in seen, f"strace recorded nothing for {name}"
    predicted = set(inspect_path(str(exe)).prediction.syscalls)
    missing = sorted(seen - predicted)
    assert not missing, f"{name}: traced but not predicted: {missing}"


GXX = shutil.which("g++")
CXX = r"""
#include <iostream>
#include <fstream>
#include <thread>
#include <filesystem>
#include <string>
#include <mutex>
int main() {
    std::mutex m;
    std::thread t([&] { std::lock_guard<std::mutex> g(m); });
    t.join();
    std::ifstream f("/etc/passwd"); std::string line; while (std::getline(f, line)) {}
    for (auto &e : std::filesystem::directory_iterator("/etc")) { (void)e; }
    std::cout << std::filesystem::current_path() << std::endl;
    return 0;
}
"""


@pytest.mark.skipif(GXX is None, reason="g++ is not installed")
def test_cxx_program_through_libstdcxx(tmp_path):
    """libstdc++ is a non-glibc library of the closure: its libc imports are the program's."""
    src = tmp_path / "p.cc"
    src.write_text(CXX)
    exe = tmp_path / "cxx"
    res = subprocess.run([GXX, "-O1", "-std=c++17", "-o", str(exe), str(src), "-pthread"], capture_output=True,
                         text=True)
    if res.returncode != 0:
        pytest.skip(f"g++ could not build the test program: {res.stderr[:200]}")
    seen = _trace(tmp_path, exe)
    ins = inspect_path(str(exe))
    predicted = set(ins.prediction.syscalls)
    assert not sorted(seen - predicted), f"traced but not predicted: {sorted(seen - predicted)}"
    assert any(lib.soname.startswith("libstdc++") and lib.path for lib in ins.prediction.libraries)
    assert any("by libstdc++" in o.text for os_ in ins.prediction.syscalls.values() for o in os_)
