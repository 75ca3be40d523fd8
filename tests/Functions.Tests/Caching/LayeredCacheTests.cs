using AgentCrm.Core.Platform.Caching;
using AgentCrm.Functions.Tests.Infrastructure;
using AgentCrm.Functions.Tests.Redis;
using AgentCrm.Tests.Support;

namespace AgentCrm.Functions.Tests.Caching;

/// <summary>The layered cache against the real Redis: order of layers, lifetimes, single-flight, invalidation, the bound.</summary>
public sealed class LayeredCacheTests
{
    private readonly string _prefix = TestRedis.UniquePrefix();
    private readonly CountingSource _source = new();

    [Fact]
    public async Task A_read_tries_L1_then_L2_then_the_source()
    {
        await using var a = await CacheNode.StartAsync(_prefix);
        await using var b = await CacheNode.StartAsync(_prefix);

        Assert.Equal("v1", (await a.Cache.GetOrLoadAsync("k", _source.LoadAsync, default))!.Text);
        Assert.Equal("v1", (await a.Cache.GetOrLoadAsync("k", _source.LoadAsync, default))!.Text);
        Assert.Equal("v1", (await b.Cache.GetOrLoadAsync("k", _source.LoadAsync, default))!.Text);

        Assert.Equal(1, _source.Loads);
        Assert.Equal((1L, 1L, 0L), (a.Stats.Misses, a.Stats.L1Hits, a.Stats.L2Hits));
        Assert.Equal((0L, 0L, 1L), (b.Stats.Misses, b.Stats.L1Hits, b.Stats.L2Hits));
    }

    [Fact]
    public async Task An_L1_copy_expires_after_its_lifetime_and_is_read_again_from_L2()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var policy = new CachePolicy("ttl", true, 10, TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(15));
        await using var node = await CacheNode.StartAsync(_prefix, policy, time);
        await node.Cache.GetOrLoadAsync("k", _source.LoadAsync, default);

        time.Advance(TimeSpan.FromSeconds(29));
        await node.Cache.GetOrLoadAsync("k", _source.LoadAsync, default);
        Assert.Equal(1, node.Stats.L1Hits);

        time.Advance(TimeSpan.FromSeconds(1));
        await node.Cache.GetOrLoadAsync("k", _source.LoadAsync, default);
        Assert.Equal((1L, 1L, 1), (node.Stats.L1Hits, node.Stats.L2Hits, _source.Loads));
    }

    [Fact]
    public async Task An_L2_entry_expires_in_Redis_after_its_lifetime()
    {
        var policy = new CachePolicy("l2ttl", true, 10, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        await using var node = await CacheNode.StartAsync(_prefix, policy);
        await node.Cache.GetOrLoadAsync("k", _source.LoadAsync, default);

        // Both layers live a second: the source is asked again once Redis has dropped the key.
        await Eventually.TrueAsync(async () =>
        {
            await node.Cache.GetOrLoadAsync("k", _source.LoadAsync, default);
            return _source.Loads == 2;
        }, TimeSpan.FromSeconds(10));
    }

    [Fact]
    public async Task Concurrent_misses_of_one_key_run_the_source_once()
    {
        await using var node = await CacheNode.StartAsync(_prefix);
        _source.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var reads = Enumerable.Range(0, 50).Select(_ => node.Cache.GetOrLoadAsync("k", _source.LoadAsync, default)).ToList();
        await Eventually.TrueAsync(() => _source.Loads > 0);
        _source.Gate.SetResult();
        var values = await Task.WhenAll(reads);

        Assert.Equal(1, _source.Loads);
        Assert.All(values, v => Assert.Equal("v1", v!.Text));
    }

    [Fact]
    public async Task A_failing_source_fails_its_readers_and_caches_nothing()
    {
        await using var node = await CacheNode.StartAsync(_prefix);

        await Assert.ThrowsAsync<InvalidOperationException>(() => node.Cache.GetOrLoadAsync("k", _ => throw new InvalidOperationException("down"), default));
        Assert.Equal("v1", (await node.Cache.GetOrLoadAsync("k", _source.LoadAsync, default))!.Text);
        Assert.Equal(1, _source.Loads);
    }

    [Fact]
    public async Task Not_found_is_not_cached()
    {
        await using var node = await CacheNode.StartAsync(_prefix);
        _source.Value = null;

        Assert.Null(await node.Cache.GetOrLoadAsync("k", _source.LoadAsync, default));
        Assert.Null(await node.Cache.GetOrLoadAsync("k", _source.LoadAsync, default));

        Assert.Equal(2, _source.Loads);
    }

    [Fact]
    public async Task Invalidating_a_key_drops_it_from_both_layers_on_every_instance()
    {
        await using var writer = await CacheNode.StartAsync(_prefix);
        await using var reader = await CacheNode.StartAsync(_prefix);
        await reader.Cache.GetOrLoadAsync("k", _source.LoadAsync, default);
        await writer.Cache.GetOrLoadAsync("k", _source.LoadAsync, default);

        _source.Value = "v2";
        await writer.Cache.InvalidateAsync("k");

        Assert.Equal("v2", (await writer.Cache.GetOrLoadAsync("k", _source.LoadAsync, default))!.Text);
        await Eventually.TrueAsync(async () => (await reader.Cache.GetOrLoadAsync("k", _source.LoadAsync, default))!.Text == "v2", TimeSpan.FromSeconds(5));
        Assert.Equal(1, writer.Stats.Invalidations);
    }

    [Fact]
    public async Task Invalidating_a_namespace_makes_all_its_keys_stale_everywhere_and_no_others()
    {
        await using var writer = await CacheNode.StartAsync(_prefix);
        await using var reader = await CacheNode.StartAsync(_prefix);
        var other = new CountingSource();
        foreach (var node in new[] { writer, reader })
        {
            await node.Cache.GetOrLoadAsync("ws1", "a", _source.LoadAsync, default);
            await node.Cache.GetOrLoadAsync("ws1", "b", _source.LoadAsync, default);
            await node.Cache.GetOrLoadAsync("ws2", "a", other.LoadAsync, default);
        }

        Assert.Equal((2, 1), (_source.Loads, other.Loads));
        _source.Value = "v2";
        other.Value = "other-v2";
        await writer.Cache.InvalidateNamespaceAsync("ws1");

        Assert.Equal("v2", (await writer.Cache.GetOrLoadAsync("ws1", "a", _source.LoadAsync, default))!.Text);
        await Eventually.TrueAsync(async () => (await reader.Cache.GetOrLoadAsync("ws1", "b", _source.LoadAsync, default))!.Text == "v2", TimeSpan.FromSeconds(5));
        Assert.Equal("v1", (await reader.Cache.GetOrLoadAsync("ws2", "a", other.LoadAsync, default))!.Text);
        Assert.Equal(1, other.Loads);
    }

    [Fact]
    public async Task A_load_overtaken_by_an_invalidation_is_answered_but_not_kept()
    {
        await using var node = await CacheNode.StartAsync(_prefix);
        _source.Gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var stale = node.Cache.GetOrLoadAsync("k", _source.LoadAsync, default);
        await Eventually.TrueAsync(() => _source.Loads == 1);

        _source.Value = "v2";
        await node.Cache.InvalidateAsync("k");
        _source.Gate.SetResult();

        Assert.Equal("v1", (await stale)!.Text);
        Assert.Equal("v2", (await node.Cache.GetOrLoadAsync("k", _source.LoadAsync, default))!.Text);
        Assert.Equal(2, _source.Loads);
    }

    [Fact]
    public async Task L1_stays_within_its_bound_and_counts_what_it_evicts()
    {
        var policy = new CachePolicy("bounded", true, 3, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15));
        await using var node = await CacheNode.StartAsync(_prefix, policy);

        for (var i = 0; i < 5; i++)
        {
            await node.Cache.GetOrLoadAsync($"k{i}", _source.LoadAsync, default);
        }

        Assert.Equal((3, 2L), (node.Stats.L1Entries, node.Stats.Evictions));
        await node.Cache.GetOrLoadAsync("k0", _source.LoadAsync, default); // evicted from L1, still in L2
        Assert.Equal((1L, 5), (node.Stats.L2Hits, _source.Loads));
    }

    [Fact]
    public async Task A_switched_off_cache_always_asks_the_source()
    {
        var policy = new CachePolicy("off", false, 10, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15));
        await using var node = await CacheNode.StartAsync(_prefix, policy);

        await node.Cache.GetOrLoadAsync("k", _source.LoadAsync, default);
        await node.Cache.GetOrLoadAsync("k", _source.LoadAsync, default);

        Assert.Equal(2, _source.Loads);
    }
}
