namespace AgentCrm.Core.Platform.Redis;

/// <summary>What AUTH sends: an optional ACL user and a password or token, and when a token stops being valid.</summary>
public sealed record RedisCredential(string? User, string Password, DateTimeOffset? ExpiresAt);

/// <summary>
/// Supplies AUTH credentials at every connect, and again before a token expires (Entra ID tokens do).
/// Null means the server needs no AUTH.
/// </summary>
public interface IRedisCredentialProvider
{
    ValueTask<RedisCredential?> GetAsync(CancellationToken cancellationToken);
}

/// <summary>The user and password of the Redis URL (or none).</summary>
public sealed class UrlRedisCredentials(RedisEndpoint endpoint) : IRedisCredentialProvider
{
    private readonly RedisCredential? _credential = endpoint.Password is null ? null : new RedisCredential(endpoint.User, endpoint.Password, null);

    public ValueTask<RedisCredential?> GetAsync(CancellationToken cancellationToken) => ValueTask.FromResult(_credential);
}
