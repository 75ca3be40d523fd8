using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using AgentCrm.Core.Durable;
using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Client;
using AgentCrm.Core.Durable.Store;
using AgentCrm.Core.Platform.Maintenance;
using AgentCrm.Functions.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace AgentCrm.Functions.Tests.Durable;

/// <summary>Durable limits (research §7.5) with small configured values: warnings once per crossing, readable failures, management that always works.</summary>
public class LimitTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private readonly LogSink _logs = new();
    private readonly ConcurrentQueue<(string Instrument, string? Limit)> _measurements = new();
    private readonly MeterListener _listener = new();
    private TestDatabase _db = null!;
    private TestApp _app = null!;

    private DurableClient Client => _app.Services.GetRequiredService<DurableClient>();

    public async Task InitializeAsync()
    {
        _listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == "AgentCrm" && instrument.Name.StartsWith("agentcrm.durable.limit_", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, _, tags, _) =>
        {
            string? limit = null;
            foreach (var tag in tags)
            {
                limit = tag.Key == "limit" ? tag.Value as string : limit;
            }

            _measurements.Enqueue((instrument.Name, limit));
        });
        _listener.Start();
        _db = await TestDatabase.CreateAsync(migrate: true);
        _app = await TestApp.StartAsync(_db, new()
        {
            ["Durable:LeaseSeconds"] = "5",
            ["Durable:PollMaxMs"] = "250",
            ["Durable:MaxPayloadBytes"] = "8192",
            ["Durable:WarnPayloadBytes"] = "2048",
            ["Durable:WarnHistoryEvents"] = "20",
            ["Durable:MaxHistoryEvents"] = "100",
            ["Durable:WarnHistoryBytes"] = "16384",
            ["Durable:MaxHistoryBytes"] = "65536",
        }, configure: b => b.Services.AddDurableFunctions(LimitWorkflows.Register));
        // Added to the running factory: the app replaces the providers configured before it builds.
        _app.Services.GetRequiredService<ILoggerFactory>().AddProvider(_logs);
    }

    public async Task DisposeAsync()
    {
        _listener.Dispose();
        await _app.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Crossing_the_history_events_warn_limit_warns_and_counts_once()
    {
        var id = await Client.StartAsync("Steps", 10); // 33 events: over the warning (20), under the limit (100)

        var done = await Client.WaitForCompletionAsync(id, Patience);

        Assert.Equal(OrchestrationStatus.Completed, done.Status);
        Assert.Single(_logs.Lines, l => l.Contains($"Instance {id} (Steps) crossed the history_events warn limit", StringComparison.Ordinal));
        Assert.Contains(("agentcrm.durable.limit_warnings", "history_events"), _measurements);
    }

    [Fact]
    public async Task Too_many_history_events_fail_the_instance_with_ActionLimitExceeded_and_the_worker_carries_on()
    {
        var id = await Client.StartAsync("Steps", 40); // would be 123 events

        var failed = await Client.WaitForCompletionAsync(id, Patience);

        Assert.Equal(OrchestrationStatus.Failed, failed.Status);
        Assert.Equal("ActionLimitExceeded", failed.Failure!.ErrorType);
        Assert.Contains("the limit is 100 (Durable__MaxHistoryEvents)", failed.Failure.ErrorMessage, StringComparison.Ordinal);
        Assert.InRange(failed.HistoryEvents, 90, 101); // the over-limit turn was not committed; its failure was
        Assert.Contains(("agentcrm.durable.limit_failures", "history_events"), _measurements);
        Assert.Equal(0L, await _db.ScalarAsync<long>($"SELECT count(*) FROM dt.tasks WHERE instance_id = '{id}'"));
        Assert.Equal(OrchestrationStatus.Completed, (await Client.WaitForCompletionAsync(await Client.StartAsync("Steps", 1), Patience)).Status);
    }

    [Fact]
    public async Task Too_many_history_bytes_fail_with_HistoryLimitExceeded_after_one_warning_and_the_instance_can_be_purged()
    {
        var id = await Client.StartAsync("Padded", 20); // each step's result is 4 KB: about 80 KB in all, the limit is 64 KB

        var failed = await Client.WaitForCompletionAsync(id, Patience);

        Assert.Equal(OrchestrationStatus.Failed, failed.Status);
        Assert.Equal("HistoryLimitExceeded", failed.Failure!.ErrorType);
        Assert.Contains("the limit is 65536 (Durable__MaxHistoryBytes)", failed.Failure.ErrorMessage, StringComparison.Ordinal);
        Assert.Single(_logs.Lines, l => l.Contains($"Instance {id} (Padded) crossed the history_bytes warn limit", StringComparison.Ordinal));
        Assert.Contains(_logs.Lines, l => l.Contains($"Instance {id} (Padded) carried a TaskCompleted payload of 4002 bytes", StringComparison.Ordinal));
        Assert.Contains(("agentcrm.durable.limit_warnings", "payload_bytes"), _measurements);

        await _db.ScalarAsync<int>($"UPDATE dt.instances SET completed_at = now() - interval '31 days' WHERE instance_id = '{id}'");
        var purge = _app.Services.GetServices<IHousekeepingJob>().Single(j => j.Name == "durable.purge-retention");
        await purge.RunAsync(CancellationToken.None);

        Assert.Null(await Client.GetAsync(id));
        Assert.Equal(0L, await _db.ScalarAsync<long>($"SELECT count(*) FROM dt.history WHERE instance_id = '{id}'")
            + await _db.ScalarAsync<long>($"SELECT count(*) FROM dt.payloads WHERE instance_id = '{id}'"));
    }

    [Fact]
    public async Task A_history_already_over_the_limit_fails_without_replay_and_terminate_still_works_on_one()
    {
        var failing = await Client.StartAsync("StepsThenWait", 2);
        var terminating = await Client.StartAsync("StepsThenWait", 10); // over the events warning as well
        await Eventually.TrueAsync(async () => (await Client.GetAsync(failing))?.CustomStatus == "\"waiting\"" && (await Client.GetAsync(terminating))?.CustomStatus == "\"waiting\"");
        // As if the history had grown under laxer limits: the stored size says it is far over both.
        await _db.ScalarAsync<int>($"UPDATE dt.instances SET history_events = history_events + 500, history_bytes = 1000000000 WHERE instance_id IN ('{failing}', '{terminating}')");

        Assert.Equal(DeliveryResult.Delivered, await Client.RaiseEventAsync(failing, "go"));
        Assert.Equal(DeliveryResult.Delivered, await Client.TerminateAsync(terminating, "enough"));

        var failed = await Client.WaitForCompletionAsync(failing, Patience);
        Assert.Equal((OrchestrationStatus.Failed, "ActionLimitExceeded"), (failed.Status, failed.Failure!.ErrorType));
        var terminated = await Client.WaitForCompletionAsync(terminating, Patience);
        Assert.Equal((OrchestrationStatus.Terminated, "\"enough\""), (terminated.Status, terminated.Output));
    }

    [Theory]
    [InlineData("BigActivityInput", "input of activity 'Echo'")]
    [InlineData("BigSubOrchestrationInput", "input of sub-orchestration 'Steps'")]
    [InlineData("BigEvent", "payload of event 'ping'")]
    [InlineData("BigCustomStatus", "custom status")]
    [InlineData("BigOutput", "output of orchestration 'BigOutput'")]
    [InlineData("BigContinueAsNew", "input of ContinueAsNew")]
    public async Task An_oversized_payload_made_by_an_orchestrator_fails_it_with_PayloadTooLarge(string name, string what)
    {
        var id = await Client.StartAsync(name, 9000);

        var failed = await Client.WaitForCompletionAsync(id, Patience);

        Assert.Equal(OrchestrationStatus.Failed, failed.Status);
        Assert.Equal("PayloadTooLarge", failed.Failure!.ErrorType);
        Assert.Contains($"The {what} is 9002 bytes; the limit is 8192", failed.Failure.ErrorMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_oversized_activity_result_fails_the_activity_which_the_orchestrator_can_catch()
    {
        var id = await Client.StartAsync("CatchBigResult", 9000);

        var done = await Client.WaitForCompletionAsync(id, Patience);

        Assert.Equal(OrchestrationStatus.Completed, done.Status);
        Assert.Equal("PayloadTooLarge: Activity 'Pad' returned 9002 bytes; the limit is 8192 (Durable__MaxPayloadBytes).", done.ReadOutput<string>());
    }

    [Fact]
    public async Task Oversized_client_payloads_are_refused_at_the_call()
    {
        var id = await Client.StartAsync("StepsThenWait", 0);

        var input = await Assert.ThrowsAsync<ArgumentException>(() => Client.StartAsync("Steps", new string('x', 9000)));
        var payload = await Assert.ThrowsAsync<ArgumentException>(() => Client.RaiseEventAsync(id, "go", new string('x', 9000)));

        Assert.Contains("The input is 9002 bytes; the limit is 8192", input.Message, StringComparison.Ordinal);
        Assert.Contains("The payload of event 'go' is 9002 bytes; the limit is 8192", payload.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await _db.ScalarAsync<long>($"SELECT count(*) FROM dt.inbox WHERE instance_id = '{id}' AND kind = 11"));
    }

    private static class LimitWorkflows
    {
        public static void Register(DurableRegistry r)
        {
            r.AddActivity<int, int>("Echo", (_, n) => Task.FromResult(n));
            r.AddActivity<string, string>("EchoText", (_, s) => Task.FromResult(s!));
            r.AddActivity<int, string>("Pad", (_, n) => Task.FromResult(new string('p', n)));
            r.AddOrchestrator<int, int>("Steps", async (ctx, n) =>
            {
                for (var i = 0; i < n; i++)
                {
                    await ctx.CallActivityAsync<int>("Echo", i);
                }

                return n;
            });
            r.AddOrchestrator<int, int>("StepsThenWait", async (ctx, n) =>
            {
                for (var i = 0; i < n; i++)
                {
                    await ctx.CallActivityAsync<int>("Echo", i);
                }

                ctx.SetCustomStatus("waiting");
                await ctx.WaitForExternalEvent<string>("go");
                return n;
            });
            r.AddOrchestrator<int, int>("Padded", async (ctx, n) =>
            {
                for (var i = 0; i < n; i++)
                {
                    await ctx.CallActivityAsync<string>("Pad", 4000);
                }

                return n;
            });
            r.AddOrchestrator<int, string>("CatchBigResult", async (ctx, size) =>
            {
                try
                {
                    return await ctx.CallActivityAsync<string>("Pad", size);
                }
                catch (TaskFailedException ex)
                {
                    return $"{ex.FailureDetails.ErrorType}: {ex.FailureDetails.ErrorMessage}";
                }
            });
            r.AddOrchestrator<int, string>("BigActivityInput", (ctx, size) => ctx.CallActivityAsync<string>("Echo", new string('x', size)));
            r.AddOrchestrator<int, int>("BigSubOrchestrationInput", (ctx, size) => ctx.CallSubOrchestratorAsync<int>("Steps", new string('x', size)));
            r.AddOrchestrator<int, int>("BigEvent", (ctx, size) =>
            {
                ctx.SendEvent("elsewhere", "ping", new string('x', size));
                return Task.FromResult(0);
            });
            r.AddOrchestrator<int, int>("BigCustomStatus", (ctx, size) =>
            {
                ctx.SetCustomStatus(new string('x', size));
                return Task.FromResult(0);
            });
            r.AddOrchestrator<int, string>("BigOutput", (_, size) => Task.FromResult(new string('x', size)));
            r.AddOrchestrator<int, int>("BigContinueAsNew", (ctx, size) =>
            {
                ctx.ContinueAsNew(new string('x', size));
                return Task.FromResult(0);
            });
        }
    }
}
