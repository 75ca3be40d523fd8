using System.Collections.Concurrent;
using AgentCrm.Core.Platform.Data;

namespace AgentCrm.Core.Workspaces;

/// <summary>
/// Keeps api_keys.last_used_at to the minute when lookups come from the cache: at most one write per
/// key and minute from this instance (the UPDATE's own condition makes the others' no-ops), instead
/// of the write app.authenticate_api_key does on a lookup in the database.
/// </summary>
public sealed class ApiKeyUsage(PostgresDataSources data, TimeProvider time)
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);
    private const int MaxTracked = 10_000;
    private readonly ConcurrentDictionary<Guid, DateTimeOffset> _written = new();

    /// <summary>The database lookup has just kept last_used_at current.</summary>
    public void Recorded(Guid keyId) => _written[keyId] = time.GetUtcNow();

    /// <summary>Writes last_used_at when this instance has not in the last minute.</summary>
    public async Task TouchAsync(Guid workspaceId, Guid keyId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (_written.TryGetValue(keyId, out var last) && now - last < Interval)
        {
            return;
        }

        // Claimed before the write, so concurrent requests of one key do not all write.
        _written[keyId] = now;
        if (_written.Count > MaxTracked)
        {
            foreach (var (id, at) in _written)
            {
                if (now - at >= Interval)
                {
                    _written.TryRemove(new KeyValuePair<Guid, DateTimeOffset>(id, at));
                }
            }
        }

        // One statement in one implicit transaction: a read-mode session is enough, and one round trip.
        await using var session = await TenantSession.OpenAsync(data.Pooled, workspaceId, null, write: false, cancellationToken);
        await session.ExecuteAsync("""
            UPDATE api_keys SET last_used_at = $3
            WHERE workspace_id = $1 AND id = $2 AND (last_used_at IS NULL OR last_used_at < $3 - interval '1 minute')
            """, cancellationToken, workspaceId, keyId, now);
    }
}
