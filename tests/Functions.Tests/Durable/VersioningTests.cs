using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Client;
using AgentCrm.Core.Durable.Store;
using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Durable;

/// <summary>
/// A slot swap with two builds on one task hub: the old knows "Versioned" v1, the new v1 and v2. Each step's
/// result names the version and the process that scheduled it, so the output says where the code ran.
/// </summary>
public class VersioningTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(90);

    [Fact]
    public async Task Each_version_runs_only_on_workers_that_know_it_and_waits_without_failing_while_none_is_up()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var sources = db.DataSources();
        var client = ChaosTests.ClientFor(sources);
        await using var old = ChaosTests.StartWorker(db, versions: "1");
        var fresh = ChaosTests.StartWorker(db, versions: "1,2");
        AppProcess? back = null;
        try
        {
            // Both builds up: every instance finishes, and v2 only ever ran on the new build.
            var v1 = await StartManyAsync(client, "1", "both-v1", 8, steps: 4);
            var v2 = await StartManyAsync(client, "2", "both-v2", 8, steps: 4);
            foreach (var id in v1)
            {
                Assert.All(await OutputAsync(client, id), tag => Assert.True(tag == $"v1@{old.Pid}" || tag == $"v1@{fresh.Pid}", tag));
            }

            foreach (var id in v2)
            {
                Assert.All(await OutputAsync(client, id), tag => Assert.Equal($"v2@{fresh.Pid}", tag));
            }

            // The new build dies with v2 instances mid-run.
            var inFlight = await StartManyAsync(client, "2", "inflight-v2", 4, steps: 40, wait: false);
            await Eventually.TrueAsync(async () => await db.ScalarAsync<long>(
                $"SELECT count(DISTINCT instance_id) FROM dt.history WHERE kind = 4 AND instance_id LIKE 'inflight-v2-%'") == inFlight.Count);
            fresh.KillHard();
            var late = await client.StartAsync("Versioned", 3, new StartOptions { InstanceId = "late-v2", Version = "2" });

            // Once the dead worker's leases have lapsed the old build could take its instances; show it keeps working
            // (a v1 instance started after that finishes on it) and that it took none of them.
            var deadOwner = $"{Environment.MachineName}:{fresh.Pid}/%";
            await Eventually.TrueAsync(async () => await db.ScalarAsync<long>(
                $"SELECT count(*) FROM dt.instances WHERE lease_owner LIKE '{deadOwner}' AND lease_expires_at > now()") == 0);
            var probe = await client.StartAsync("Versioned", 3, new StartOptions { InstanceId = "probe-v1", Version = "1" });
            Assert.All(await OutputAsync(client, probe), tag => Assert.Equal($"v1@{old.Pid}", tag));
            foreach (var id in inFlight)
            {
                var waiting = await client.GetAsync(id, withPayloads: false);
                Assert.Equal(OrchestrationStatus.Running, waiting!.Status);
            }

            var lateWaiting = await client.GetAsync(late, withPayloads: false);
            Assert.Equal((OrchestrationStatus.Pending, 0), (lateWaiting!.Status, lateWaiting.HistoryEvents));
            Assert.Equal(0L, await db.ScalarAsync<long>(
                $"SELECT count(*) FROM dt.instances WHERE version = '2' AND lease_owner LIKE '{Environment.MachineName}:{old.Pid}/%'"));

            // A v2-capable build returns: everything that waited finishes, on it.
            back = ChaosTests.StartWorker(db, versions: "1,2");
            var (freshPid, backPid) = (fresh.Pid, back.Pid);
            foreach (var id in inFlight)
            {
                var tags = await OutputAsync(client, id);
                Assert.Equal(40, tags.Length);
                Assert.All(tags, tag => Assert.True(tag == $"v2@{freshPid}" || tag == $"v2@{backPid}", tag));
                Assert.Contains($"v2@{freshPid}", tags);
                Assert.Contains($"v2@{backPid}", tags);
            }

            Assert.All(await OutputAsync(client, late), tag => Assert.Equal($"v2@{backPid}", tag));
        }
        finally
        {
            await fresh.DisposeAsync();
            if (back is not null)
            {
                await back.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task Starting_a_version_no_build_registered_fails_at_the_call_and_stores_nothing()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var sources = db.DataSources();
        var client = ChaosTests.ClientFor(sources);

        var error = await Assert.ThrowsAsync<ArgumentException>(() => client.StartAsync("Versioned", 1, new StartOptions { InstanceId = "v3", Version = "3" }));

        Assert.Contains("Orchestrator 'Versioned' has no version '3' registered", error.Message, StringComparison.Ordinal);
        Assert.Equal(0L, await db.ScalarAsync<long>("SELECT count(*) FROM dt.instances"));
    }

    private static async Task<List<string>> StartManyAsync(DurableClient client, string version, string prefix, int count, int steps, bool wait = true)
    {
        var ids = new List<string>();
        for (var i = 0; i < count; i++)
        {
            ids.Add(await client.StartAsync("Versioned", steps, new StartOptions { InstanceId = $"{prefix}-{i}", Version = version }));
        }

        if (wait)
        {
            foreach (var id in ids)
            {
                Assert.Equal(OrchestrationStatus.Completed, (await client.WaitForCompletionAsync(id, Patience)).Status);
            }
        }

        return ids;
    }

    private static async Task<string[]> OutputAsync(DurableClient client, string id)
    {
        var done = await client.WaitForCompletionAsync(id, Patience);
        Assert.True(done.Status == OrchestrationStatus.Completed, $"{id} is {done.Status}: {done.Failure?.ErrorMessage}");
        return done.ReadOutput<string[]>()!;
    }
}
