using AgentCrm.Core.Durable;
using AgentCrm.Core.Durable.Api;

namespace AgentCrm.Functions.Tests.Durable;

/// <summary>Orchestrators and activities the engine tests run, registered like a feature's.</summary>
public static class TestWorkflows
{
    public static readonly TaskCompletionSource BlockingCancelled = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public static readonly TaskCompletionSource BlockingStarted = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static void Register(DurableRegistry r)
    {
        r.AddActivity<int, int>("AddOne", (_, n) => Task.FromResult(n + 1));
        r.AddActivity<object, int>("Flaky", (ctx, _) => ctx.Attempt < 3 ? throw new IOException($"attempt {ctx.Attempt} failed") : Task.FromResult(ctx.Attempt));
        r.AddActivity<object, int>("Fatal", (_, _) => throw new InvalidOperationException("never works"));
        r.AddActivity<object, string>("Key", (ctx, _) => Task.FromResult(ctx.IdempotencyKey));
        r.AddActivity<object, int>("Blocking", async (ctx, _) =>
        {
            BlockingStarted.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, ctx.CancellationToken);
            }
            catch (OperationCanceledException)
            {
                BlockingCancelled.TrySetResult();
                throw;
            }

            return 0;
        });

        r.AddOrchestrator<int, int>("Sequence5", async (ctx, n) =>
        {
            for (var i = 0; i < 5; i++)
            {
                n = await ctx.CallActivityAsync<int>("AddOne", n);
            }

            return n;
        });
        r.AddOrchestrator<int, int>("Sequence5Local", async (ctx, n) =>
        {
            var local = new TaskOptions { Dispatch = DispatchMode.Local };
            for (var i = 0; i < 5; i++)
            {
                n = await ctx.CallActivityAsync<int>("AddOne", n, local);
            }

            return n;
        });
        r.AddOrchestrator<int, int>("FanOut", async (ctx, n) =>
            (await Task.WhenAll(Enumerable.Range(0, n).Select(i => ctx.CallActivityAsync<int>("AddOne", i)))).Sum());
        r.AddOrchestrator<int, double>("Timer", async (ctx, ms) =>
        {
            var start = ctx.CurrentUtcDateTime;
            await ctx.CreateTimer(TimeSpan.FromMilliseconds(ms));
            return (ctx.CurrentUtcDateTime - start).TotalMilliseconds;
        });
        r.AddOrchestrator<int, string>("Approval", async (ctx, timeoutMs) =>
        {
            ctx.SetCustomStatus("waiting for approval");
            try
            {
                return await ctx.WaitForExternalEvent<string>("approve", TimeSpan.FromMilliseconds(timeoutMs));
            }
            catch (TimeoutException)
            {
                return "timeout";
            }
        });
        r.AddOrchestrator<int, int>("Parent", async (ctx, n) => await ctx.CallSubOrchestratorAsync<int>("Sequence5", n) + 100);
        r.AddOrchestrator<int, int>("Countdown", async (ctx, n) =>
        {
            if (n <= 0)
            {
                return ctx.HistorySize.Events;
            }

            await ctx.CallActivityAsync<int>("AddOne", n);
            ctx.ContinueAsNew(n - 1);
            return -1;
        });
        r.AddOrchestrator<int, int>("Retries", async (ctx, _) =>
            await ctx.CallActivityAsync<int>("Flaky", null, TaskOptions.FromRetryPolicy(new RetryPolicy(5, TimeSpan.FromMilliseconds(10)))));
        r.AddOrchestrator<string, string>("CatchFailure", async (ctx, mode) =>
        {
            var policy = mode switch
            {
                "non-retryable" => new RetryPolicy(5, TimeSpan.FromMilliseconds(10)) { NonRetryableErrorTypes = [typeof(InvalidOperationException).FullName!] },
                "timeout" => new RetryPolicy(1000, TimeSpan.FromMilliseconds(20), retryTimeout: TimeSpan.FromMilliseconds(300)),
                "handle-no" => new RetryPolicy(5, TimeSpan.FromMilliseconds(10)) { HandleFailure = f => f.ErrorType != typeof(InvalidOperationException).FullName },
                "handle-yes" => new RetryPolicy(3, TimeSpan.FromMilliseconds(10)) { HandleFailure = _ => true },
                _ => null,
            };
            try
            {
                await ctx.CallActivityAsync<int>(mode == "unknown" ? "NoSuchActivity" : "Fatal", null, new TaskOptions { Retry = policy });
                return "succeeded?";
            }
            catch (TaskFailedException ex)
            {
                return $"{ex.FailureDetails.ErrorType}|{ex.FailureDetails.Attempts}";
            }
        });
        r.AddOrchestrator<int, int>("Failing", async (ctx, _) =>
        {
            await ctx.CallActivityAsync<int>("AddOne", 1);
            throw new InvalidOperationException("the orchestrator gave up");
        });
        r.AddOrchestrator<int, int>("WaitsForever", async (ctx, _) =>
        {
            var blocking = ctx.CallActivityAsync<int>("Blocking");
            await ctx.WaitForExternalEvent<int>("never");
            return await blocking;
        });
        r.AddOrchestrator<int, string>("Keys", async (ctx, _) => await ctx.CallActivityAsync<string>("Key"));
        r.AddActivity<int, int>("Slow", async (ctx, ms) =>
        {
            await Task.Delay(ms, ctx.CancellationToken);
            return ms;
        });
        r.AddOrchestrator<int, string>("StartToClose", async (ctx, _) =>
        {
            try
            {
                await ctx.CallActivityAsync<int>("Slow", 30_000, new TaskOptions { StartToCloseTimeout = TimeSpan.FromMilliseconds(200) });
                return "finished?";
            }
            catch (TaskFailedException ex)
            {
                return ex.FailureDetails.ErrorType;
            }
        });
        r.AddActivity<object, string>("Beats", async (ctx, _) =>
        {
            var before = ctx.LastHeartbeatDetails;
            await ctx.HeartbeatAsync(new { step = ctx.Attempt });
            if (ctx.Attempt == 1)
            {
                throw new IOException("first attempt fails after its heartbeat");
            }

            return before ?? "none";
        });
        r.AddOrchestrator<int, string>("Heartbeats", async (ctx, _) =>
            await ctx.CallActivityAsync<string>("Beats", null, TaskOptions.FromRetryPolicy(new RetryPolicy(2, TimeSpan.FromMilliseconds(10)))));
        r.AddOrchestrator<string, string>("ParentWithChildId", async (ctx, childId) =>
        {
            try
            {
                return await ctx.CallSubOrchestratorAsync<string>("Approval", 60_000, new SubOrchestrationOptions { InstanceId = childId });
            }
            catch (TaskFailedException ex)
            {
                return ex.FailureDetails.ErrorType;
            }
        });
        r.AddActivity<int, int>("FailsUntil", (ctx, n) => ctx.Attempt < n ? throw new IOException($"attempt {ctx.Attempt}") : Task.FromResult(ctx.Attempt));
        r.AddOrchestrator<int, int>("ManyAttempts", async (ctx, n) =>
            await ctx.CallActivityAsync<int>("FailsUntil", n, TaskOptions.FromRetryPolicy(new RetryPolicy(n, TimeSpan.FromMilliseconds(1)))));
        r.AddOrchestrator<int, int>("EventLoop", async (ctx, n) =>
        {
            await ctx.WaitForExternalEvent<int>("x");
            if (n + 1 >= 2)
            {
                return n + 1;
            }

            ctx.ContinueAsNew(n + 1);
            return -1;
        });
        r.AddOrchestrator<int, string>("TwinChildren", async (ctx, _) =>
        {
            var id = ctx.InstanceId + "-child";
            var results = await Task.WhenAll(
                Outcome(ctx.CallSubOrchestratorAsync<int>("Sequence5", 1, new SubOrchestrationOptions { InstanceId = id })),
                Outcome(ctx.CallSubOrchestratorAsync<int>("Sequence5", 1, new SubOrchestrationOptions { InstanceId = id })));
            return string.Join(",", results.Order(StringComparer.Ordinal));

            static async Task<string> Outcome(Task<int> call)
            {
                try
                {
                    return (await call).ToString(System.Globalization.CultureInfo.InvariantCulture);
                }
                catch (TaskFailedException ex)
                {
                    return ex.FailureDetails.ErrorType;
                }
            }
        });
        r.AddOrchestrator<string, string>("Sender", async (ctx, target) =>
        {
            await ctx.CallActivityAsync<int>("AddOne", 0);
            ctx.SendEvent(target!, "approve", "sent by " + ctx.InstanceId);
            return "sent";
        });
    }
}
