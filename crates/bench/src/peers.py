"""aiter-bench's Python rows: each workload written the way Python programs
write it, with asyncio and the standard library only.

Run as `python3 peers.py WORKLOAD ARGS...`; prints one JSON object
`{"values": [...], "check": N}` on standard output: the metrics of one run
(timed inside this process, start-up excluded) and the result check, which
must equal the Rust cases' check.
"""

import asyncio
import json
import sys
import time

MASK = (1 << 64) - 1


async def read_lines(path, chunk_size):
    """A chunked async file reader, as aiofiles-style code writes it: each
    read runs on the default thread pool, lines are yielded one by one."""
    loop = asyncio.get_running_loop()
    with open(path, "rb") as f:
        pending = b""
        while True:
            chunk = await loop.run_in_executor(None, f.read, chunk_size)
            if not chunk:
                break
            parts = (pending + chunk).split(b"\n")
            pending = parts.pop()
            for line in parts:
                yield line
        if pending:
            yield pending


async def lines(path, chunk_size):
    started = time.perf_counter()
    count = 0
    line_bytes = 0
    async for line in read_lines(path, int(chunk_size)):
        count += 1
        line_bytes += len(line)
    elapsed = time.perf_counter() - started
    return [elapsed], count, {"line_bytes": line_bytes}


def schedule(n, items):
    """Which input gets each item: the Rust workload's seeded xorshift
    shuffle, bit for bit."""
    per = items // n
    order = [i for i in range(n) for _ in range(per)]
    state = 0x2545F4914F6CDD1D ^ n
    for i in range(len(order) - 1, 0, -1):
        state ^= (state << 13) & MASK
        state ^= state >> 7
        state ^= (state << 17) & MASK
        j = state % (i + 1)
        order[i], order[j] = order[j], order[i]
    return order


async def merge_streams(streams):
    """Merging async iterators: one task per stream forwarding into one
    queue; the merge ends when every stream has ended."""
    queue = asyncio.Queue()
    done = object()

    async def forward(stream):
        async for item in stream:
            await queue.put(item)
        await queue.put(done)

    tasks = [asyncio.create_task(forward(s)) for s in streams]
    remaining = len(tasks)
    while remaining:
        item = await queue.get()
        if item is done:
            remaining -= 1
        else:
            yield item


async def from_range(start, stop):
    for i in range(start, stop):
        yield i


async def from_queue(queue):
    while True:
        item = await queue.get()
        if item is None:
            return
        yield item


async def merge(shape, n, items):
    n, items = int(n), int(items)
    per = items // n
    if shape == "ready":
        inputs = [from_range(i * per, (i + 1) * per) for i in range(n)]
        produce = None
    else:
        order = schedule(n, items)
        queues = [asyncio.Queue() for _ in range(n)]
        inputs = [from_queue(q) for q in queues]

        async def produce():
            for b in range(0, len(order), 8):
                for j, i in enumerate(order[b:b + 8]):
                    queues[i].put_nowait(b + j)
                await asyncio.sleep(0)
            for q in queues:
                q.put_nowait(None)

    started = time.perf_counter()
    producer = asyncio.create_task(produce()) if produce else None
    count = 0
    total = 0
    async for x in merge_streams(inputs):
        count += 1
        total += x
    if producer:
        await producer
    elapsed = time.perf_counter() - started
    if count != items:
        raise SystemExit(f"merged {count} items, expected {items}")
    return [elapsed * 1e9 / items], total, {}


async def count_up(n):
    for i in range(n):
        yield i


async def generate(n):
    n = int(n)
    started = time.perf_counter()
    total = 0
    async for i in count_up(n):
        total += i
    elapsed = time.perf_counter() - started
    return [elapsed * 1e9 / n], total, {}


async def cursor(pages, items, latency_ms, consumer_ms):
    """A paged cursor with an awaited fetch (no prefetch): the way a
    DB-API-style async cursor is iterated."""
    pages, items = int(pages), int(items)
    latency, consumer = float(latency_ms) / 1e3, float(consumer_ms) / 1e3

    async def fetch(page):
        await asyncio.sleep(latency)
        rows = list(range(page * items, (page + 1) * items))
        return rows, (page + 1 if page + 1 < pages else None)

    async def rows():
        page = 0
        while page is not None:
            batch, page = await fetch(page)
            for row in batch:
                yield row

    started = time.perf_counter()
    total = 0
    async for row in rows():
        if row % items == 0:
            time.sleep(consumer)
        total += row
    elapsed = time.perf_counter() - started
    waited = elapsed - pages * consumer
    share = max(0.0, 100.0 * waited / (pages * latency))
    return [elapsed, share], total, {}


WORKLOADS = {"lines": lines, "merge": merge, "generate": generate, "cursor": cursor}


def main():
    workload, args = sys.argv[1], sys.argv[2:]
    values, check, extra = asyncio.run(WORKLOADS[workload](*args))
    print(json.dumps({"values": values, "check": check, **extra}))


if __name__ == "__main__":
    main()
