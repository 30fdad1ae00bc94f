#!/usr/bin/python3
"""A hostile client we did not write (Debian's python3-grpcio, raw bytes on the wire, no code
generated from our protos) against a running cairnd, while watching the node's threads and
memory in /proc.

    hostile.py ADDRESS PID [--calls N]
    hostile.py ADDRESS PID --idle N      N idle connections, each its own TCP connection, held
                                         open a few seconds (prints how many connected and the
                                         node's peak threads, RSS and open descriptors)
    hostile.py ADDRESS PID --slow-readers N [--hold S]
                                         N GetEntries streams that never read, held S seconds
                                         (prints how the node answered them, and its peaks)

Opens N GetEntries streams and cancels each at once, sends garbage bytes, deeply nested groups, a
huge repeated field and an oversized message to Append, AppendBatch and GetEntries, and asks with
deadlines already past. Prints one JSON object: the
node's peak and final thread count and RSS, and the status codes each attack got.
"""
import json
import os
import resource
import sys
import threading
import time

import grpc


def proc_status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return int(fields["Threads"]), int(fields["VmRSS"].split()[0]) * 1024


class Watcher(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak_threads, self.peak_rss, self.running = pid, 0, 0, True
        self.peak_fds = 0

    def run(self):
        while self.running:
            threads, rss = proc_status(self.pid)
            self.peak_threads = max(self.peak_threads, threads)
            self.peak_rss = max(self.peak_rss, rss)
            self.peak_fds = max(self.peak_fds, len(os.listdir(f"/proc/{self.pid}/fd")))
            time.sleep(0.02)


def idle(address, pid, count):
    """Opens `count` connections that send nothing, holds them, closes them."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    watcher = Watcher(pid)
    watcher.start()
    # A local subchannel pool per channel: one TCP connection each (by default channels to one
    # target share a connection).
    channels = [grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1)])
                for _ in range(count)]
    # All connect at once; those not ready within 20 s in all count as refused.
    futures = [grpc.channel_ready_future(channel) for channel in channels]
    deadline = time.monotonic() + 20
    connected = 0
    for future in futures:
        try:
            future.result(timeout=max(0.01, deadline - time.monotonic()))
            connected += 1
        except grpc.FutureTimeoutError:
            pass
    time.sleep(2.0)
    for channel in channels:
        channel.close()
    time.sleep(1.0)
    watcher.running = False
    watcher.join()
    threads, rss = proc_status(pid)
    print(json.dumps({"idle_connected": connected, "peak_threads": watcher.peak_threads,
                      "peak_rss_bytes": watcher.peak_rss, "peak_fds": watcher.peak_fds,
                      "final_threads": threads, "final_rss_bytes": rss}))


def slow_readers(address, pid, count, hold):
    """Opens `count` GetEntries streams of the whole log that never read a message (on channels
    of their own, 100 streams each), holds them `hold` seconds, and reports how many the node
    refused at once and how many it let open (a stream the node cancels later is seen only by a
    reader that reads: the node's log tells), then whether a reader that reads gets the log."""
    identity = lambda b: b  # noqa: E731
    watcher = Watcher(pid)
    watcher.start()
    # Without BDP probing the reader's window stays at HTTP/2's 64 KB: the node's writes block
    # once it is full, as behind a reader that does not read.
    channels = [grpc.insecure_channel(address, options=[("grpc.use_local_subchannel_pool", 1),
                                                        ("grpc.http2.bdp_probe", 0)])
                for _ in range((count + 99) // 100)]
    start = time.monotonic()
    ended = {}  # stream number -> (seconds after start, code), once the client sees its end
    lock = threading.Lock()

    def on_done(number):
        def done(call):
            with lock:
                ended[number] = (time.monotonic() - start, call.code().name)
        return done

    streams = []
    for number in range(count):
        get_entries = channels[number // 100].unary_stream("/cairn.v1.Ledger/GetEntries",
                                                           identity, identity)
        stream = get_entries(b"")  # the whole log; never iterated, so never read
        stream.add_done_callback(on_done(number))
        streams.append(stream)
    time.sleep(hold)
    with lock:
        early = dict(ended)
    result = {"slow_readers": count, "hold_seconds": hold}
    result["refused_at_once"] = sum(1 for t, code in early.values() if code == "RESOURCE_EXHAUSTED")
    result["refusal_codes"] = sorted({code for t, code in early.values()})
    result["not_refused"] = count - len(early)
    result["last_refusal_seconds"] = round(max((t for t, code in early.values()), default=0), 3)
    for stream in streams:
        stream.cancel()
    # A reader that reads gets the whole log once the slow ones are gone.
    reader = channels[0].unary_stream("/cairn.v1.Ledger/GetEntries", identity, identity)
    result["reader_after"] = code_of(lambda: list(reader(b"", timeout=30)))
    time.sleep(0.5)
    watcher.running = False
    watcher.join()
    result["peak_threads"], result["peak_rss_bytes"] = watcher.peak_threads, watcher.peak_rss
    result["final_threads"], result["final_rss_bytes"] = proc_status(pid)
    for channel in channels:
        channel.close()
    print(json.dumps(result))


def answer_when_admitted(call):
    """answer_of(call), asked again (for up to 10 s) while the node refuses it for want of a
    thread: it may still be ending the streams cancelled before (slowly under AddressSanitizer)."""
    for _ in range(40):
        answer = answer_of(call)
        if answer[0] != "RESOURCE_EXHAUSTED":
            return answer
        time.sleep(0.25)
    return answer


def code_of(call):
    return answer_of(call)[0]


def answer_of(call):
    """(status code name, status message) of a call."""
    try:
        call()
        return "OK", ""
    except grpc.RpcError as e:
        return e.code().name, e.details() or ""


def main():
    address, pid = sys.argv[1], int(sys.argv[2])
    if "--idle" in sys.argv:
        return idle(address, pid, int(sys.argv[sys.argv.index("--idle") + 1]))
    if "--slow-readers" in sys.argv:
        hold = float(sys.argv[sys.argv.index("--hold") + 1]) if "--hold" in sys.argv else 5.0
        return slow_readers(address, pid, int(sys.argv[sys.argv.index("--slow-readers") + 1]),
                            hold)
    calls = int(sys.argv[sys.argv.index("--calls") + 1]) if "--calls" in sys.argv else 10000
    identity = lambda b: b  # noqa: E731 — raw bytes, serialized by nobody
    channel = grpc.insecure_channel(address)
    get_entries = channel.unary_stream("/cairn.v1.Ledger/GetEntries", identity, identity)
    append = channel.unary_unary("/cairn.v1.Ledger/Append", identity, identity)
    append_batch = channel.unary_unary("/cairn.v1.Ledger/AppendBatch", identity, identity)
    watcher = Watcher(pid)
    watcher.start()
    result = {}

    # N streams opened, all held open a moment, then cancelled (GetEntriesRequest{} is zero
    # bytes: the whole log).
    start = time.monotonic()
    streams = [get_entries(b"") for _ in range(calls)]
    time.sleep(0.5)
    codes = {}
    for stream in streams:
        stream.cancel()
    for stream in streams:
        code = stream.code().name if stream.code() is not None else "NONE"
        codes[code] = codes.get(code, 0) + 1
    result["opened_then_cancelled"] = calls
    result["opened_then_cancelled_codes"] = codes
    result["cancel_seconds"] = round(time.monotonic() - start, 2)
    del streams

    # Garbage: bytes that are not a protobuf message, and an oversized one.
    result["append_garbage"], result["append_garbage_message"] = answer_of(
        lambda: append(b"\xff\xff\xff\xff\x0f", timeout=5))
    result["append_batch_garbage"] = code_of(lambda: append_batch(b"\x0a\xff", timeout=5))
    # 10,000 nested groups (field 15): past protobuf's recursion limit.
    result["append_nested"] = code_of(lambda: append(b"\x7b" * 10000 + b"\x7c" * 10000, timeout=5))
    # A huge repeated field: 100,000 empty events in one batch (200 kB).
    result["append_batch_huge_repeated"], result["append_batch_huge_repeated_message"] = answer_of(
        lambda: append_batch(b"\x0a\x00" * 100000, timeout=10))
    result["get_entries_garbage"], result["get_entries_garbage_message"] = answer_when_admitted(
        lambda: list(get_entries(b"\xff\xff", timeout=5)))
    get_event = channel.unary_unary("/cairn.v1.Ledger/GetEvent", identity, identity)
    result["get_event_garbage"] = answer_when_admitted(
        lambda: get_event(b"\xff\xff\xff", timeout=5))[0]
    result["append_oversized"] = code_of(lambda: append(b"\x0a" + b"\xff" * 5 + b"x" * (8 << 20),
                                                        timeout=10))
    # A deadline already past.
    result["expired_deadline"] = code_of(lambda: append(b"", timeout=0.000001))

    time.sleep(1.0)  # let the node settle
    watcher.running = False
    watcher.join()
    result["peak_threads"], result["peak_rss_bytes"] = watcher.peak_threads, watcher.peak_rss
    result["final_threads"], result["final_rss_bytes"] = proc_status(pid)
    channel.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main()
