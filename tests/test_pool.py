"""The kernel pool's bookkeeping, with stand-in kernels (the real ones: tests/test_engine.py)."""

from __future__ import annotations

import asyncio

from pytest_nbscrap._pool import KernelPool


class FakeKernel:
    def __init__(self, key):
        self.key = key
        self.stopped = False
        self.code = None

    def exit_code(self):
        return self.code

    async def shutdown(self, *, now):
        self.stopped = True


class Starts:
    """A start function that records every kernel it made."""

    def __init__(self):
        self.kernels = []

    async def __call__(self, name, cwd):
        await asyncio.sleep(0)
        kernel = FakeKernel((name, cwd))
        self.kernels.append(kernel)
        return kernel


def run(coroutine):
    return asyncio.run(coroutine)


async def first_run_with_a_spare() -> tuple[Starts, KernelPool]:
    """A pool that keeps one spare, its first kernel handed out for /a, the spare given time to
    start (it guesses the next run is in /a too)."""
    starts = Starts()
    pool = KernelPool(starts, spares=1)
    await pool.acquire("python3", "/a")
    await asyncio.sleep(0.01)
    return starts, pool


def test_every_acquire_gets_a_kernel_never_handed_out_before():
    async def scenario():
        starts = Starts()
        pool = KernelPool(starts, spares=1)
        seen = []
        for _ in range(4):
            kernel = await pool.acquire("python3", "/a")
            seen.append(kernel)
            await pool.release(kernel, now=False)
        await pool.close()
        return seen, starts

    seen, starts = run(scenario())
    assert len({id(kernel) for kernel in seen}) == 4
    assert all(kernel.stopped for kernel in starts.kernels)


def test_the_next_kernel_starts_while_the_current_one_is_in_use():
    async def scenario():
        starts, pool = await first_run_with_a_spare()
        started_during_first_run = len(starts.kernels)
        await pool.close()
        return started_during_first_run

    assert run(scenario()) == 2


def test_expected_runs_decide_which_kernels_start_early():
    async def scenario():
        starts = Starts()
        pool = KernelPool(starts, spares=1)
        pool.expect(("python3", "/b"))
        await asyncio.sleep(0.01)
        first = await pool.acquire("python3", "/b")
        await pool.close()
        return first, starts

    first, starts = run(scenario())
    assert first is starts.kernels[0]
    assert first.key == ("python3", "/b")


def test_a_guess_that_no_run_needs_is_stopped_not_kept():
    async def scenario():
        starts, pool = await first_run_with_a_spare()
        await pool.acquire("python3", "/b")  # it was not: the /a spare is dropped
        await asyncio.sleep(0.01)
        wasted = [k for k in starts.kernels if k.key == ("python3", "/a") and k.stopped]
        await pool.close()
        return wasted

    assert len(run(scenario())) == 1


def test_a_spare_that_died_while_waiting_is_replaced():
    async def scenario():
        starts, pool = await first_run_with_a_spare()
        starts.kernels[1].code = -9  # the spare died
        second = await pool.acquire("python3", "/a")
        await pool.close()
        return second, starts

    second, starts = run(scenario())
    assert second is not starts.kernels[1]
    assert starts.kernels[1].stopped


def test_close_stops_spares_and_waits_for_every_shutdown():
    async def scenario():
        starts = Starts()
        pool = KernelPool(starts, spares=2)
        pool.expect(("python3", "/a"))
        pool.expect(("python3", "/b"))
        kernel = await pool.acquire("python3", "/c")
        pool.release_soon(kernel, now=True)
        await pool.close()
        return starts

    starts = run(scenario())
    assert starts.kernels
    assert all(kernel.stopped for kernel in starts.kernels)
