using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Security;

namespace AgentCrm.Core.Workspaces;

/// <summary>
/// A user's standing in a workspace, read per request before any tenant data is touched: from the
/// membership cache (<see cref="AccessCaches"/>), so a hit costs no round trip. No membership is not
/// cached: it is rare in real traffic, and a cached refusal would outlive an accepted invitation.
/// </summary>
public sealed class WorkspaceMembership(PostgresDataSources data, AccessCaches caches)
{
    public async Task<(WorkspaceRole Role, string Tier)?> FindAsync(Guid workspaceId, Guid userId, CancellationToken cancellationToken)
    {
        var found = await caches.Memberships.GetOrLoadAsync(AccessCaches.MembershipKey(workspaceId, userId),
            token => LoadAsync(workspaceId, userId, token), cancellationToken);
        return found is null ? null : (WorkspaceRoles.Parse(found.Role), found.Tier);
    }

    private async Task<CachedMembership?> LoadAsync(Guid workspaceId, Guid userId, CancellationToken cancellationToken)
    {
        // Through a definer function: one statement, no tenant scoping needed, a plan cached per session.
        await using var command = data.Pooled.CreateCommand("SELECT role, tier FROM app.membership($1, $2)").Args(workspaceId, userId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        return await reader.ReadAsync(cancellationToken) ? new CachedMembership(reader.GetString(0), reader.GetString(1)) : null;
    }
}
