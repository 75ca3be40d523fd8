using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Security;

namespace AgentCrm.Core.Workspaces;

/// <summary>
/// A user's standing in a workspace, read per request before any tenant data is touched. (Issue 4
/// caches it; a role change must then invalidate the entry.)
/// </summary>
public sealed class WorkspaceMembership(PostgresDataSources data)
{
    private const string Sql = """
        SELECT m.role, w.tier FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id
        WHERE m.workspace_id = $1 AND m.user_id = $2
        """;

    public async Task<(WorkspaceRole Role, string Tier)?> FindAsync(Guid workspaceId, Guid userId, CancellationToken cancellationToken)
    {
        await using var session = await TenantSession.OpenAsync(data.Pooled, workspaceId, userId, write: false, cancellationToken);
        await using var batch = session.CreateBatch(Sql, workspaceId, userId);
        await using var reader = await session.ReadAsync(batch, cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return (WorkspaceRoles.Parse(reader.GetString(0)), reader.GetString(1));
    }
}
