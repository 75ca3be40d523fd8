using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Security;

namespace AgentCrm.Core.Workspaces;

/// <summary>
/// A user's standing in a workspace, read per request before any tenant data is touched. (Issue 4
/// caches it; a role change must then invalidate the entry.)
/// </summary>
public sealed class WorkspaceMembership(PostgresDataSources data)
{
    public async Task<(WorkspaceRole Role, string Tier)?> FindAsync(Guid workspaceId, Guid userId, CancellationToken cancellationToken)
    {
        // Through a definer function: one statement, no tenant scoping needed, a plan cached per session.
        await using var command = data.Pooled.CreateCommand("SELECT role, tier FROM app.membership($1, $2)").Args(workspaceId, userId);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return (WorkspaceRoles.Parse(reader.GetString(0)), reader.GetString(1));
    }
}
