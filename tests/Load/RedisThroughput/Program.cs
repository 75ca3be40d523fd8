using System.Globalization;
using AgentCrm.Core.Platform.Redis;
using Microsoft.Extensions.Logging.Abstractions;

// usage: RedisThroughput URL CONNECTIONS SECONDS
// CONNECTIONS callers each loop SET then GET on keys of their own (3-byte values, as redis-benchmark's
// default) over the one multiplexed connection; prints "SET <ops/s>" and "GET <ops/s>" after a warm-up.
if (args.Length != 3 || !RedisEndpoint.TryParse(args[0], out var endpoint, out var problem))
{
    Console.Error.WriteLine("usage: RedisThroughput redis://[:password@]host:port CONNECTIONS SECONDS");
    return 2;
}

var callers = int.Parse(args[1], CultureInfo.InvariantCulture);
var duration = TimeSpan.FromSeconds(double.Parse(args[2], CultureInfo.InvariantCulture));
var options = new RedisOptions(endpoint, "bench:", TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(2), 1 << 20,
    TimeSpan.FromMilliseconds(100), TimeSpan.FromSeconds(2), UseManagedIdentity: false, ManagedIdentityClientId: null);
await using var client = new RedisClient(options, null, TimeProvider.System, NullLogger<RedisClient>.Instance);
var value = "xxx"u8.ToArray();

await RunAsync("warm-up", TimeSpan.FromSeconds(2), set: true);
Console.WriteLine($"SET {await RunAsync("SET", duration, set: true):0}");
Console.WriteLine($"GET {await RunAsync("GET", duration, set: false):0}");
return 0;

async Task<double> RunAsync(string name, TimeSpan length, bool set)
{
    long operations = 0;
    var started = TimeProvider.System.GetTimestamp();
    var workers = Enumerable.Range(0, callers).Select(async worker =>
    {
        var key = $"key:{worker}";
        while (TimeProvider.System.GetElapsedTime(started) < length)
        {
            if (set)
            {
                await client.SetAsync(key, value, null);
            }
            else
            {
                await client.GetAsync(key);
            }

            Interlocked.Increment(ref operations);
        }
    });
    await Task.WhenAll(workers);
    return operations / TimeProvider.System.GetElapsedTime(started).TotalSeconds;
}
