using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using AgentCrm.Core.Platform.Caching;
using AgentCrm.Functions.Tests.Infrastructure;
using AgentCrm.Functions.Tests.Processes;
using AgentCrm.Functions.Tests.Redis;
using Xunit.Abstractions;
using static AgentCrm.Functions.Tests.Infrastructure.TenantSeeder;

namespace AgentCrm.Functions.Tests.Caching;

/// <summary>
/// Redis killed under traffic: no 5xx (the caches are bypassed) and the caches in use again within 5 s
/// of its return. Each test kills a redis-server of its own, never the shared one; they run alone all
/// the same, so the timing holds on a busy machine.
/// </summary>
[Collection(nameof(ServerRestarts))]
public sealed class RedisOutageTests(ITestOutputHelper output)
{
    private static readonly TimeSpan BackWithin = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task The_cache_bypasses_while_Redis_is_down_and_is_used_again_soon_after_it_returns()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var node = await CacheNode.StartAsync(TestRedis.UniquePrefix(), url: redis.Url);
        var source = new CountingSource();
        await node.Cache.GetOrLoadAsync("k", source.LoadAsync, default);
        await node.Cache.GetOrLoadAsync("k", source.LoadAsync, default);
        Assert.Equal(1, source.Loads);

        await redis.KillAsync();
        await Eventually.TrueAsync(() => !node.Bus.IsSynchronized, TimeSpan.FromSeconds(5));
        source.Value = "v2";
        Assert.Equal("v2", (await node.Cache.GetOrLoadAsync("k", source.LoadAsync, default))!.Text); // bypassed: no stale L1 copy
        await node.Cache.InvalidateAsync("k"); // cannot reach Redis: remembered, never thrown
        await node.Cache.InvalidateNamespaceAsync("ns");
        Assert.True(node.Stats.Bypasses >= 1);

        await redis.RestartAsync();
        var returned = Stopwatch.StartNew();
        await Eventually.TrueAsync(async () =>
        {
            var before = node.Stats.L1Hits;
            await node.Cache.GetOrLoadAsync("k", source.LoadAsync, default);
            await node.Cache.GetOrLoadAsync("k", source.LoadAsync, default);
            return node.Stats.L1Hits > before;
        }, BackWithin);
        output.WriteLine($"Cache used again {returned.ElapsedMilliseconds} ms after Redis returned");
        Assert.NotEqual(0, node.Bus.Epoch); // the lost invalidations moved every L2 key on
    }

    [Fact]
    public async Task With_Redis_killed_under_load_the_API_answers_no_5xx_and_caches_again_once_it_is_back()
    {
        await using var redis = await RedisServerProcess.StartAsync();
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var app = await TestApp.StartAsync(db, new() { ["Redis:Url"] = redis.Url });
        var seed = new TenantSeeder(db, app);
        var (workspace, owner) = await seed.WorkspaceWithOwnerAsync();
        var key = await seed.ApiKeyAsync(workspace, "write");
        var id = (await HttpAssert.JsonAsync(await app.Client.SendAsync(Request(HttpMethod.Post, "/api/contacts", owner.Token, new { email = "outage@example.test", name = "before" })),
            HttpStatusCode.Created)).GetProperty("id").GetString();

        var statuses = new ConcurrentBag<HttpStatusCode>();
        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, 4).Select(worker => Task.Run(async () =>
        {
            var credential = worker % 2 == 0 ? owner.Token : key;
            while (!stop.IsCancellationRequested)
            {
                var path = worker < 2 ? $"/api/contacts/{id}" : "/api/contacts";
                using var response = await app.Client.SendAsync(Request(HttpMethod.Get, path, credential));
                statuses.Add(response.StatusCode);
            }
        })).ToList();

        await Eventually.TrueAsync(() => ContactStats(app).L1Hits > 20);
        await redis.KillAsync();
        await Eventually.TrueAsync(() => ContactStats(app).Bypasses > 20, TimeSpan.FromSeconds(10));
        // A write while Redis is away: its invalidation cannot be sent, so it must be made good later.
        await HttpAssert.JsonAsync(await app.Client.SendAsync(Request(HttpMethod.Patch, $"/api/contacts/{id}", owner.Token, new { name = "during" })), HttpStatusCode.OK);

        await redis.RestartAsync();
        var returned = Stopwatch.StartNew();
        var hitsAtReturn = ContactStats(app).L1Hits + ContactStats(app).L2Hits;
        await Eventually.TrueAsync(() => ContactStats(app).L1Hits + ContactStats(app).L2Hits > hitsAtReturn, TimeSpan.FromSeconds(10));
        var backAfter = returned.Elapsed;
        await stop.CancelAsync();
        await Task.WhenAll(load);

        output.WriteLine($"{statuses.Count} requests, by status: {string.Join(", ", statuses.GroupBy(s => (int)s).Select(g => $"{g.Key}×{g.Count()}"))}; cache hits again {backAfter.TotalMilliseconds:0} ms after Redis returned");
        Assert.DoesNotContain(statuses, s => (int)s >= 500);
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.True(backAfter < BackWithin, $"cache back after {backAfter}");
        var body = await HttpAssert.JsonAsync(await app.Client.SendAsync(Request(HttpMethod.Get, $"/api/contacts/{id}", owner.Token)), HttpStatusCode.OK);
        Assert.Equal("during", body.GetProperty("name").GetString());
    }

    private static CacheStatistics ContactStats(TestApp app) =>
        app.Services.GetRequiredService<CacheFactory>().Statistics().Single(s => s.Name == "contact");
}
