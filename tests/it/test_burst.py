"""Many clients at once against the default settings (no instances, rate or
per_source set): every one is served, none refused or reset."""

import socket
import threading
import time

from harness import check, limit, service, talk

CLIENTS = 32
SECONDS = 3.0


@limit(30)
def test_32_concurrent_clients_for_3_seconds_all_served(t):
    sd = t.start([service("quick", server="/bin/echo", args=["hi"])])
    port = sd.port("quick")
    stop = threading.Event()
    lock = threading.Lock()
    served = [0]
    failures = []

    def client():
        # Bounded: at most this many rounds even on a very fast machine.
        for _ in range(100000):
            if stop.is_set():
                return
            try:
                data = talk(port, timeout=10)
            except (OSError, socket.timeout) as e:
                with lock:
                    failures.append(repr(e))
                continue
            with lock:
                if data == b"hi\n":
                    served[0] += 1
                else:
                    failures.append("got %r" % data)

    threads = [threading.Thread(target=client, daemon=True)
               for _ in range(CLIENTS)]
    for th in threads:
        th.start()
    time.sleep(SECONDS)
    stop.set()
    for th in threads:
        th.join(15)
    check(not any(th.is_alive() for th in threads),
          "a client was still waiting 15 s after the burst ended")
    total = served[0] + len(failures)
    check(not failures, "%d of %d connections of the burst failed, e.g. %s"
          % (len(failures), total, sorted(set(failures))[:3]))
    check(served[0] >= CLIENTS, "only %d connections served in %.0f s"
          % (served[0], SECONDS))
    sd.check_alive("after the burst")
    # The service takes a single client at once right after the burst.
    started = time.monotonic()
    check(talk(port, timeout=5) == b"hi\n", "the probe after the burst was "
          "not answered")
    check(time.monotonic() - started < 2.0, "the probe after the burst "
          "took %.1f s" % (time.monotonic() - started))
