using System.Diagnostics.Metrics;
using System.Text.Json;
using AgentCrm.Core.Durable;
using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Client;
using AgentCrm.Core.Durable.Store;
using AgentCrm.Core.Platform.Maintenance;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Durable;

/// <summary>The engine's housekeeping: the retention purge job, and the stuck-instance report (gauge and health warning).</summary>
public class HousekeepingTests : IAsyncLifetime
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private TestDatabase _db = null!;
    private TestApp _app = null!;

    private DurableClient Client => _app.Services.GetRequiredService<DurableClient>();

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(migrate: true);
        _app = await TestApp.StartAsync(_db, new()
        {
            ["Durable:LeaseSeconds"] = "5",
            ["Durable:PollMaxMs"] = "250",
            ["Durable:PurgeBatchSize"] = "2",
            ["Durable:RetentionDays"] = "30",
            ["Durable:StuckAfterMinutes"] = "60",
        }, configure: b => b.Services.AddDurableFunctions(TestWorkflows.Register));
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task Retention_purge_deletes_old_finished_instances_with_all_their_rows_in_batches_and_keeps_the_rest()
    {
        var completed = await FinishedAsync("Sequence5", OrchestrationStatus.Completed);
        var failed = await FinishedAsync("Failing", OrchestrationStatus.Failed);
        var terminated = await Client.StartAsync("Approval", 600_000);
        await Eventually.TrueAsync(async () => (await Client.GetAsync(terminated))?.CustomStatus is not null);
        await Client.TerminateAsync(terminated);
        Assert.Equal(OrchestrationStatus.Terminated, (await Client.WaitForCompletionAsync(terminated, Patience)).Status);
        var recent = await FinishedAsync("Sequence5", OrchestrationStatus.Completed);
        var running = await Client.StartAsync("Approval", 600_000);
        await Eventually.TrueAsync(async () => (await Client.GetAsync(running))?.CustomStatus is not null);
        var parent = await FinishedAsync("Parent", OrchestrationStatus.Completed);
        var child = await _db.ScalarAsync<string>($"SELECT instance_id FROM dt.instances WHERE parent_instance_id = '{parent}'");
        string[] old = [completed, failed, terminated];
        await _db.ScalarAsync<int>($"UPDATE dt.instances SET completed_at = now() - interval '31 days' WHERE instance_id IN ({List([.. old, child!])})");
        // Its parent is live again (as if still running): the child must stay for it.
        await _db.ScalarAsync<int>($"UPDATE dt.instances SET status = 1, completed_at = NULL WHERE instance_id = '{parent}'");
        var job = _app.Services.GetServices<IHousekeepingJob>().Single(j => j.Name == "durable.purge-retention");

        var summary = await job.RunAsync(CancellationToken.None);

        Assert.Equal("Purged 3 instance(s) finished over 30 day(s) ago in 2 batch(es).", summary);
        Assert.Equal(0L, await RowsAsync(old));
        foreach (var kept in new[] { recent, running, parent, child! })
        {
            Assert.NotNull(await Client.GetAsync(kept));
        }

        Assert.True(await _db.ScalarAsync<long>($"SELECT count(*) FROM dt.history WHERE instance_id IN ({List([recent, running, child!])})") > 0);
        Assert.Contains("durable.purge-retention", _app.Services.GetRequiredService<HousekeepingRunner>().JobNames);

        // Once the parent has finished long ago too, both go.
        await _db.ScalarAsync<int>($"UPDATE dt.instances SET status = 2, completed_at = now() - interval '40 days' WHERE instance_id = '{parent}'");
        Assert.StartsWith("Purged 2 instance(s)", await job.RunAsync(CancellationToken.None), StringComparison.Ordinal);
        Assert.Equal(0L, await RowsAsync([parent, child!]));
    }

    [Fact]
    public async Task Instances_with_work_unconsumed_for_long_are_reported_stuck_and_those_waiting_legitimately_are_not()
    {
        var store = _app.Services.GetRequiredService<TaskHubStore>();
        // Stuck: a version no worker has (its start message sits visible), and an activity on a queue nobody serves.
        await store.StartAsync(new StartRequest("stuck-version", "Sequence5", "9", null, null, null), CancellationToken.None);
        var stuckTask = await Client.StartAsync("Approval", 600_000, new StartOptions { InstanceId = "stuck-task" });
        // Not stuck: waiting on an event and a long timer, on a long activity whose lease is renewed, or suspended.
        var waitingEvent = await Client.StartAsync("Approval", 600_000);
        var waitingTimer = await Client.StartAsync("Timer", 600_000);
        var longActivity = await Client.StartAsync("WaitsForever", 0);
        await store.StartAsync(new StartRequest("suspended-version", "Sequence5", "9", null, null, null), CancellationToken.None);
        await Eventually.TrueAsync(async () => await _db.ScalarAsync<long>(
            $"SELECT count(*) FROM dt.instances WHERE status = 1 AND lease_owner IS NULL AND instance_id IN ({List([stuckTask, waitingEvent, waitingTimer, longActivity])})") == 4
            && await _db.ScalarAsync<long>($"SELECT count(*) FROM dt.tasks WHERE instance_id = '{longActivity}' AND lease_owner IS NOT NULL") == 1);
        await _db.ScalarAsync<int>($"""
            WITH t AS (INSERT INTO dt.tasks (queue, instance_id, execution_id, task_id, name, visible_at)
                       SELECT 'unserved', instance_id, execution_id, 99, 'Nobody', now() - interval '2 hours' FROM dt.instances WHERE instance_id = '{stuckTask}'),
                 m AS (UPDATE dt.inbox SET visible_at = now() - interval '2 hours' WHERE visible_at <= now()),
                 l AS (UPDATE dt.tasks SET visible_at = now() - interval '2 hours' WHERE instance_id = '{longActivity}')
            UPDATE dt.instances SET updated_at = now() - interval '2 hours', status = CASE WHEN instance_id = 'suspended-version' THEN 5 ELSE status END
            """);
        using var gauge = new GaugeReader("agentcrm.durable.stuck_instances");

        JsonElement check = default;
        await Eventually.TrueAsync(async () =>
        {
            // Cached for up to 30 s: wait for a reading taken after the set-up above.
            // Read whatever the overall status: another check (a busy machine's loops) may be what sets it.
            using var response = await _app.Client.GetAsync("/api/health");
            using var detail = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
            check = detail.RootElement.GetProperty("checks").GetProperty("durable").Clone();
            return check.GetProperty("status").GetString() == "Degraded";
        }, Patience);

        Assert.True(check.GetProperty("data").GetProperty("stuckInstances").GetInt64() == 2, check.ToString());
        Assert.Equal(["stuck-task", "stuck-version"], check.GetProperty("data").GetProperty("sampleInstanceIds").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.Contains("2 instance(s) have had work waiting over 60 min", check.GetProperty("description").GetString(), StringComparison.Ordinal);
        using var ready = await _app.Client.GetAsync("/api/health/ready");
        using var readyBody = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
        Assert.False(readyBody.RootElement.GetProperty("checks").TryGetProperty("durable", out _));
        Assert.Contains(2L, gauge.Read());
    }

    private async Task<string> FinishedAsync(string name, OrchestrationStatus expected)
    {
        var id = await Client.StartAsync(name, 1);
        Assert.Equal(expected, (await Client.WaitForCompletionAsync(id, Patience)).Status);
        return id;
    }

    private Task<long> RowsAsync(string[] ids) => _db.ScalarAsync<long>($"""
        SELECT (SELECT count(*) FROM dt.instances WHERE instance_id IN ({List(ids)})) + (SELECT count(*) FROM dt.inbox WHERE instance_id IN ({List(ids)}))
             + (SELECT count(*) FROM dt.history WHERE instance_id IN ({List(ids)})) + (SELECT count(*) FROM dt.tasks WHERE instance_id IN ({List(ids)}))
             + (SELECT count(*) FROM dt.payloads WHERE instance_id IN ({List(ids)}))
        """);

    private static string List(IEnumerable<string> ids) => string.Join(", ", ids.Select(id => $"'{id}'"));

    /// <summary>Reads an observable gauge of the app's meter on demand.</summary>
    private sealed class GaugeReader : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<long> _values = [];

        public GaugeReader(string name)
        {
            _listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == "AgentCrm" && instrument.Name == name)
                {
                    l.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((_, value, _, _) => _values.Add(value));
            _listener.Start();
        }

        public IReadOnlyList<long> Read()
        {
            _values.Clear();
            _listener.RecordObservableInstruments();
            return [.. _values];
        }

        public void Dispose() => _listener.Dispose();
    }
}
