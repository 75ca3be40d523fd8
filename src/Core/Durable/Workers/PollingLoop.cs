using AgentCrm.Core.Platform.Hosting;

namespace AgentCrm.Core.Durable.Workers;

/// <summary>
/// The shape both workers share: take up to the free slots' worth of work, run each item in the
/// background, and when there is none sleep until woken, until the next item falls due, or for a
/// randomised back-off that doubles from PollMin to PollMax. Beats the loop monitor every pass.
/// <paramref name="slots"/> bounds the items running at once; others (Local dispatch) may share it.
/// </summary>
internal sealed class PollingLoop<T>(
    string name, SemaphoreSlim slots, DurableOptions options, WakeSignal signal, BackgroundLoopMonitor monitor, TimeProvider time,
    Func<int, CancellationToken, Task<IReadOnlyList<T>>> take, Func<T, CancellationToken, Task> run, Func<CancellationToken, Task<DateTime?>> nextDue)
{
    public async Task RunAsync(CancellationToken stoppingToken)
    {
        var running = new HashSet<Task>();
        monitor.Register(name, options.PollMax);
        var idle = options.PollMin;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                monitor.Beat(name);
                running.RemoveWhere(t => t.IsCompleted);
                if (slots.CurrentCount == 0)
                {
                    await Task.WhenAny(running.Append(Task.Delay(options.PollMax, time, stoppingToken)));
                    continue;
                }

                IReadOnlyList<T> items;
                try
                {
                    items = await take(Math.Min(slots.CurrentCount, options.BatchSize), stoppingToken);
                }
                catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
                {
                    items = []; // database away: back off like an empty poll
                }

                if (items.Count > 0)
                {
                    idle = options.PollMin;
                    foreach (var item in items)
                    {
                        await slots.WaitAsync(stoppingToken);
                        running.Add(RunOneAsync(item, stoppingToken));
                    }

                    continue;
                }

                var wait = idle;
                try
                {
                    if (await nextDue(stoppingToken) is { } due)
                    {
                        var untilDue = due - time.GetUtcNow().UtcDateTime;
                        wait = untilDue < wait ? (untilDue > TimeSpan.Zero ? untilDue : TimeSpan.Zero) : wait;
                    }
                }
                catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException)
                {
                    // keep the back-off
                }

                await signal.WaitAsync(wait, stoppingToken);
#pragma warning disable CA5394 // back-off jitter needs no cryptographic randomness
                idle = TimeSpan.FromMilliseconds(Math.Min(options.PollMax.TotalMilliseconds, idle.TotalMilliseconds * (1.5 + Random.Shared.NextDouble())));
#pragma warning restore CA5394
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // stopping
        }
        finally
        {
            monitor.Unregister(name);
        }

        try
        {
            // Let running items finish (their own leases bound them); after a lease they would be redone elsewhere anyway.
            await Task.WhenAll(running).WaitAsync(options.Lease, time, CancellationToken.None);
        }
        catch (Exception ex) when (ex is TimeoutException or OperationCanceledException)
        {
            // stop waiting (items log their own failures)
        }
    }

    private async Task RunOneAsync(T item, CancellationToken stoppingToken)
    {
        try
        {
            await Task.Yield();
            await run(item, stoppingToken);
        }
        finally
        {
            slots.Release();
        }
    }
}
