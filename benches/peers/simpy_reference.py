"""The reference model in SimPy 4, for a like-for-like speed comparison with oversim.

One human review stage with C reviewers (a simpy.Resource), Poisson arrivals, exponential
1-minute reviews, defect probability 0.05, detection 0.8, offered load 0.9, over HOURS
simulated hours. Prints nanoseconds per simulated action (best of RUNS runs).

    python3 benches/peers/simpy_reference.py [C] [HOURS] [RUNS]
"""
import random
import sys
import time

import simpy


def replication(c, hours, seed):
    rng = random.Random(seed)
    env = simpy.Environment()
    reviewers = simpy.Resource(env, capacity=c)
    rate = 0.9 * c * 60.0
    stats = {"n": 0, "wait": 0.0, "escaped": 0}

    def action(env):
        arrived = env.now
        defective = rng.random() < 0.05
        with reviewers.request() as req:
            yield req
            stats["wait"] += env.now - arrived
            yield env.timeout(rng.expovariate(60.0))
            caught = defective and rng.random() < 0.8
            if defective and not caught:
                stats["escaped"] += 1
        stats["n"] += 1

    def source(env):
        while True:
            yield env.timeout(rng.expovariate(rate))
            env.process(action(env))

    env.process(source(env))
    env.run(until=hours)
    return stats


def main():
    c = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    hours = float(sys.argv[2]) if len(sys.argv) > 2 else 200.0
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    best = float("inf")
    for r in range(runs):
        t = time.perf_counter()
        s = replication(c, hours, r)
        elapsed = time.perf_counter() - t
        best = min(best, elapsed * 1e9 / max(s["n"], 1))
    print(f"{best:.1f}")


if __name__ == "__main__":
    main()
