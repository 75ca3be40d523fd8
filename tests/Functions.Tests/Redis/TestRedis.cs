using AgentCrm.Core.Platform.Redis;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentCrm.Functions.Tests.Redis;

/// <summary>Clients for Redis tests: the shared server scripts/test started (Redis__Url), or one of a test's own.</summary>
public static class TestRedis
{
    public static string SharedUrl => Environment.GetEnvironmentVariable("Redis__Url") is { Length: > 0 } url
        ? url
        : throw new InvalidOperationException("Redis__Url is not set: run the tests with scripts/test, which starts Redis and exports it.");

    /// <summary>A prefix no other test uses, so tests sharing one server never see each other's keys.</summary>
    public static string UniquePrefix() => $"test:{Guid.NewGuid():N}:";

    public static RedisOptions Options(string url, string? prefix = null, int timeoutMs = 1000, int maxReplyBytes = 16 * 1024 * 1024) =>
        new(RedisEndpoint.TryParse(url, out var endpoint, out var problem) ? endpoint : throw new ArgumentException(problem),
            prefix ?? UniquePrefix(), TimeSpan.FromMilliseconds(timeoutMs), TimeSpan.FromSeconds(2), maxReplyBytes,
            TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(500), UseManagedIdentity: false, ManagedIdentityClientId: null);

    public static RedisClient Client(RedisOptions options) => new(options, null, TimeProvider.System, NullLogger<RedisClient>.Instance);

    public static RedisSubscriber Subscriber(RedisOptions options) => new(options, null, TimeProvider.System, NullLogger<RedisSubscriber>.Instance);
}
