using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using AgentCrm.Core.Platform.Caching;
using AgentCrm.Core.Platform.Security;
using AgentCrm.Core.Workspaces;
using AgentCrm.Functions.Tests.Infrastructure;
using AgentCrm.Tests.Support;
using Microsoft.Extensions.Caching.Distributed;
using static AgentCrm.Functions.Tests.Infrastructure.TenantSeeder;

namespace AgentCrm.Functions.Tests.Caching;

/// <summary>The caches as the app uses them: what a hit costs, warm-up, tier changes, last-used writes, health.</summary>
public sealed class AppCacheTests : IAsyncLifetime
{
    private TestDatabase _db = null!;
    private TestApp _app = null!;
    private TenantSeeder _seed = null!;

    public async Task InitializeAsync()
    {
        _db = await TestDatabase.CreateAsync(migrate: true);
        _app = await TestApp.StartAsync(_db);
        _seed = new TenantSeeder(_db, _app);
    }

    public async Task DisposeAsync()
    {
        await _app.DisposeAsync();
        await _db.DisposeAsync();
    }

    [Fact]
    public async Task A_contact_read_from_L1_costs_no_database_round_trip_membership_included()
    {
        var (workspace, owner) = await _seed.WorkspaceWithOwnerAsync();
        var key = await _seed.ApiKeyAsync(workspace);
        var id = (await HttpAssert.JsonAsync(await _app.Client.SendAsync(Request(HttpMethod.Post, "/api/contacts", owner.Token, new { email = "l1@example.test" })), HttpStatusCode.Created))
            .GetProperty("id").GetString();
        var cold = await CountCommandsAsync(async () =>
        {
            foreach (var credential in new[] { owner.Token, key })
            {
                Assert.Equal(HttpStatusCode.OK, (await _app.Client.SendAsync(Request(HttpMethod.Get, $"/api/contacts/{id}", credential))).StatusCode);
            }
        });
        Assert.True(cold > 0, "the first reads went to PostgreSQL (the count works)");

        var commands = await CountCommandsAsync(async () =>
        {
            foreach (var credential in new[] { owner.Token, key, owner.Token, key })
            {
                Assert.Equal(HttpStatusCode.OK, (await _app.Client.SendAsync(Request(HttpMethod.Get, $"/api/contacts/{id}", credential))).StatusCode);
            }
        });

        Assert.Equal(0, commands);
        var stats = Stats(_app);
        Assert.True(stats["contact"].L1Hits >= 4 && stats["membership"].L1Hits >= 2 && stats["apikey"].L1Hits >= 2, string.Join(", ", stats.Values));
    }

    [Fact]
    public async Task A_tier_change_is_seen_at_once_when_invalidated_and_within_the_membership_lifetime_when_not()
    {
        var (workspace, owner) = await _seed.WorkspaceWithOwnerAsync();
        var membership = _app.Services.GetRequiredService<WorkspaceMembership>();
        Assert.Equal("FREE", (await membership.FindAsync(workspace, owner.Id, default))!.Value.Tier);

        await _db.ScalarAsync<int>($"UPDATE workspaces SET tier = 'PRO' WHERE id = '{workspace}'");
        Assert.Equal("FREE", (await membership.FindAsync(workspace, owner.Id, default))!.Value.Tier); // cached, nobody said
        await _app.Services.GetRequiredService<AccessCaches>().TierChangedAsync(workspace, default);
        Assert.Equal("PRO", (await membership.FindAsync(workspace, owner.Id, default))!.Value.Tier);

        await using var shortLived = await TestApp.StartAsync(_db, new() { ["Cache:MembershipSeconds"] = "1" });
        var quick = shortLived.Services.GetRequiredService<WorkspaceMembership>();
        Assert.Equal("PRO", (await quick.FindAsync(workspace, owner.Id, default))!.Value.Tier);
        await _db.ScalarAsync<int>($"UPDATE workspaces SET tier = 'STARTER' WHERE id = '{workspace}'");
        var changed = Stopwatch.StartNew();
        await Eventually.TrueAsync(async () => (await quick.FindAsync(workspace, owner.Id, default))!.Value.Tier == "STARTER", TimeSpan.FromSeconds(5));
        Assert.True(changed.Elapsed < TimeSpan.FromSeconds(2.5), $"took {changed.Elapsed}");
    }

    [Fact]
    public async Task A_cached_key_still_keeps_last_used_to_the_minute_without_a_write_per_request()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var app = await TestApp.StartAsync(_db, configure: b => b.Services.AddSingleton<TimeProvider>(time));
        var (workspace, _) = await _seed.WorkspaceWithOwnerAsync();
        var key = await _seed.ApiKeyAsync(workspace);
        async Task<DateTimeOffset?> UseAsync()
        {
            Assert.Equal(HttpStatusCode.OK, (await app.Client.SendAsync(Request(HttpMethod.Get, "/api/contacts", key))).StatusCode);
            return await _db.ScalarAsync<DateTime?>($"SELECT last_used_at FROM api_keys WHERE workspace_id = '{workspace}'") is { } at ? new DateTimeOffset(at, TimeSpan.Zero) : null;
        }

        var first = await UseAsync();
        Assert.Equal(time.GetUtcNow().ToUnixTimeMilliseconds() / 1000, first!.Value.ToUnixTimeMilliseconds() / 1000);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(first, await UseAsync());
        time.Advance(TimeSpan.FromSeconds(31));
        var later = await UseAsync();
        Assert.Equal(time.GetUtcNow().ToUnixTimeMilliseconds() / 1000, later!.Value.ToUnixTimeMilliseconds() / 1000);
        Assert.Equal(2, Stats(app)["apikey"].L1Hits);
    }

    [Fact]
    public async Task A_new_instance_starts_with_recent_memberships_and_keys_in_L1()
    {
        var (workspace, owner) = await _seed.WorkspaceWithOwnerAsync();
        var viewer = await _seed.MemberAsync(workspace, WorkspaceRole.Viewer);
        var key = await _seed.ApiKeyAsync(workspace);
        Assert.Equal(HttpStatusCode.OK, (await _app.Client.SendAsync(Request(HttpMethod.Get, "/api/contacts", key))).StatusCode); // last used now

        var starting = Stopwatch.StartNew();
        await using var fresh = await TestApp.StartAsync(_db);
        starting.Stop();

        var warmed = Stats(fresh);
        Assert.True(warmed["membership"].L1Entries >= 2 && warmed["apikey"].L1Entries >= 1, string.Join(", ", warmed.Values));
        foreach (var credential in new[] { owner.Token, viewer.Token, key })
        {
            Assert.Equal(HttpStatusCode.OK, (await fresh.Client.SendAsync(Request(HttpMethod.Get, "/api/contacts", credential))).StatusCode);
        }

        var used = Stats(fresh);
        Assert.Equal((0L, 0L), (used["membership"].Misses, used["apikey"].Misses));
        Assert.True(starting.Elapsed < TimeSpan.FromSeconds(10), $"start took {starting.Elapsed}");
    }

    [Fact]
    public async Task Health_shows_each_cache_s_hit_ratio()
    {
        var (_, owner) = await _seed.WorkspaceWithOwnerAsync();
        await _app.Client.SendAsync(Request(HttpMethod.Get, "/api/contacts", owner.Token));
        await _app.Client.SendAsync(Request(HttpMethod.Get, "/api/contacts", owner.Token));

        var health = await HttpAssert.JsonAsync(await _app.Client.GetAsync("/api/health"), HttpStatusCode.OK);
        var cache = health.GetProperty("checks").GetProperty("cache");

        Assert.Equal("Healthy", cache.GetProperty("status").GetString());
        Assert.True(cache.GetProperty("data").GetProperty("contact-list").GetProperty("hitRatio").GetDouble() > 0);
        Assert.Equal(JsonValueKind.Number, cache.GetProperty("data").GetProperty("membership").GetProperty("l1Hits").ValueKind);
    }

    [Fact]
    public async Task The_distributed_cache_stores_expires_and_removes_in_redis()
    {
        var cache = _app.Services.GetRequiredService<IDistributedCache>();
        var key = Guid.NewGuid().ToString("N");

        await cache.SetAsync(key, [1, 2, 3], new DistributedCacheEntryOptions { SlidingExpiration = TimeSpan.FromMinutes(1) });
        Assert.Equal([1, 2, 3], await cache.GetAsync(key));
        await cache.RefreshAsync(key);
        await cache.RemoveAsync(key);
        Assert.Null(await cache.GetAsync(key));

        await cache.SetAsync(key, [4], new DistributedCacheEntryOptions { AbsoluteExpirationRelativeToNow = TimeSpan.FromMilliseconds(300) });
        Assert.Equal([4], await cache.GetAsync(key));
        await Eventually.TrueAsync(async () => await cache.GetAsync(key) is null, TimeSpan.FromSeconds(5));
    }

    private static Dictionary<string, CacheStatistics> Stats(TestApp app) =>
        app.Services.GetRequiredService<CacheFactory>().Statistics().ToDictionary(s => s.Name);

    /// <summary>Counts Npgsql commands on this test's database while <paramref name="work"/> runs (other tests use other databases).</summary>
    private async Task<int> CountCommandsAsync(Func<Task> work)
    {
        var seen = new ConcurrentBag<string>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("db.namespace") as string == _db.Name)
                {
                    seen.Add(activity.DisplayName);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        await work();
        return seen.Count;
    }
}
