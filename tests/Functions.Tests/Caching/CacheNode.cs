using System.Text.Json.Serialization;
using AgentCrm.Core.Platform.Caching;
using AgentCrm.Core.Platform.Redis;
using AgentCrm.Functions.Tests.Infrastructure;
using AgentCrm.Functions.Tests.Redis;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentCrm.Functions.Tests.Caching;

public sealed record CachedValue(string Text);

[JsonSerializable(typeof(CachedValue))]
internal sealed partial class CacheTestJson : JsonSerializerContext;

/// <summary>
/// One app instance's caching, without the app: its own Redis client and subscriber on a shared server
/// and prefix, a bus and one named cache over a source the test controls.
/// </summary>
public sealed class CacheNode : IAsyncDisposable
{
    private readonly RedisClient _client;
    private readonly RedisSubscriber _subscriber;

    private CacheNode(RedisClient client, RedisSubscriber subscriber, CacheBus bus, LayeredCache<CachedValue> cache)
    {
        _client = client;
        _subscriber = subscriber;
        Bus = bus;
        Cache = cache;
    }

    public CacheBus Bus { get; }

    public LayeredCache<CachedValue> Cache { get; }

    public static async Task<CacheNode> StartAsync(string prefix, CachePolicy? policy = null, TimeProvider? time = null, string? url = null)
    {
        var options = TestRedis.Options(url ?? TestRedis.SharedUrl, prefix);
        var client = TestRedis.Client(options);
        var subscriber = TestRedis.Subscriber(options);
        var bus = new CacheBus(client, subscriber, NullLogger<CacheBus>.Instance);
        var caching = new CachingOptions(true, 500, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(5), TimeSpan.Zero);
        var cache = new CacheFactory(bus, caching, time ?? TimeProvider.System).Create(policy ?? caching.Policy("test"), CacheTestJson.Default.CachedValue);
        client.StartConnecting();
        bus.Start();
        await Eventually.TrueAsync(() => bus.IsSynchronized, TimeSpan.FromSeconds(10));
        return new CacheNode(client, subscriber, bus, cache);
    }

    public CacheStatistics Stats => Cache.Statistics();

    public async ValueTask DisposeAsync()
    {
        Bus.Dispose();
        await _subscriber.DisposeAsync();
        await _client.DisposeAsync();
    }
}

/// <summary>A source that counts its loads and answers what the test sets.</summary>
public sealed class CountingSource
{
    private int _loads;

    public string? Value { get; set; } = "v1";

    public int Loads => Volatile.Read(ref _loads);

    public TaskCompletionSource? Gate { get; set; }

    public async Task<CachedValue?> LoadAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _loads);
        var read = Value; // read before waiting, as a database read would have
        if (Gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        return read is null ? null : new CachedValue(read);
    }
}
