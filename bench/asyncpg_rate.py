"""The notebook's driver behind a transaction pooler: asyncpg with statement_cache_size=0
(what PgBouncer in transaction mode needs), CALLERS tasks each running SQL with $1 = 'Eli' on a
pool of CALLERS connections for SECONDS. Prints the rate in queries per second.

usage: asyncpg_rate.py DSN SQL CALLERS SECONDS
"""
import asyncio
import sys
import time

import asyncpg


async def main(dsn, sql, callers, seconds):
    pool = await asyncpg.create_pool(
        dsn, min_size=callers, max_size=callers, statement_cache_size=0
    )
    done = 0
    deadline = time.perf_counter() + seconds

    async def caller():
        nonlocal done
        async with pool.acquire() as connection:
            while time.perf_counter() < deadline:
                rows = await connection.fetch(sql, "Eli")
                assert len(rows) == 33, len(rows)
                done += 1

    started = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(callers)))
    elapsed = time.perf_counter() - started
    await pool.close()
    print(f"{done / elapsed:.1f}")


if __name__ == "__main__":
    dsn, sql, callers, seconds = sys.argv[1:5]
    asyncio.run(main(dsn, sql, int(callers), float(seconds)))
