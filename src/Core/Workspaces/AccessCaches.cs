using System.Text.Json.Serialization;
using AgentCrm.Core.Platform.Caching;
using AgentCrm.Core.Platform.Data;

namespace AgentCrm.Core.Workspaces;

/// <summary>A user's membership as cached: role (wire name) and the workspace's tier.</summary>
public sealed record CachedMembership(string Role, string Tier);

/// <summary>An API key as cached, under the hash of its secret: whose it is, its scopes, the workspace's tier.</summary>
public sealed record CachedApiKey(Guid WorkspaceId, Guid KeyId, string[] Scopes, string Tier);

[JsonSerializable(typeof(CachedMembership))]
[JsonSerializable(typeof(CachedApiKey))]
internal sealed partial class AccessCacheJson : JsonSerializerContext;

/// <summary>
/// The caches of access decisions, read on every authenticated request: memberships by workspace and
/// user, API keys by prefix and secret hash (never the secret). Both live for Cache__MembershipSeconds
/// in each layer. Writes that change them invalidate here after they commit: role change, member
/// removal, key revocation and <see cref="TierChangedAsync"/>.
/// </summary>
public sealed class AccessCaches(CacheFactory caches, PostgresDataSources data)
{
    public LayeredCache<CachedMembership> Memberships { get; } =
        caches.Create(caches.Options.AccessPolicy("membership"), AccessCacheJson.Default.CachedMembership);

    public LayeredCache<CachedApiKey> ApiKeys { get; } =
        caches.Create(caches.Options.AccessPolicy("apikey"), AccessCacheJson.Default.CachedApiKey);

    public static string MembershipKey(Guid workspaceId, Guid userId) => $"{workspaceId:N}:{userId:N}";

    public static string ApiKeyKey(string prefix, byte[] secretHash) => $"{prefix}:{Convert.ToHexStringLower(secretHash)}";

    public Task MemberChangedAsync(Guid workspaceId, Guid userId) => Memberships.InvalidateAsync(MembershipKey(workspaceId, userId));

    public Task ApiKeyRevokedAsync(string prefix, byte[] secretHash) => ApiKeys.InvalidateAsync(ApiKeyKey(prefix, secretHash));

    /// <summary>
    /// A workspace's tier changed: every cached membership and key of it carries the old one. A workspace
    /// has people and keys by the dozen, not millions, so they are invalidated one by one.
    /// </summary>
    public async Task TierChangedAsync(Guid workspaceId, CancellationToken cancellationToken)
    {
        var members = new List<string>();
        var keys = new List<string>();
        await using (var session = await TenantSession.OpenAsync(data.Pooled, workspaceId, null, write: false, cancellationToken))
        await using (var batch = session.CreateBatch("SELECT user_id FROM workspace_members WHERE workspace_id = $1", workspaceId))
        {
            batch.Add("SELECT prefix, secret_hash FROM api_keys WHERE workspace_id = $1 AND revoked_at IS NULL").Args(workspaceId);
            await using var reader = await session.ReadAsync(batch, cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                members.Add(MembershipKey(workspaceId, reader.GetGuid(0)));
            }

            await reader.NextResultAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                keys.Add(ApiKeyKey(reader.GetString(0), reader.GetFieldValue<byte[]>(1)));
            }
        }

        await Memberships.InvalidateAsync(members);
        await ApiKeys.InvalidateAsync(keys);
    }
}
