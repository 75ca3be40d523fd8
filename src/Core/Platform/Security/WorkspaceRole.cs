namespace AgentCrm.Core.Platform.Security;

/// <summary>
/// A member's role in a workspace, ordered so a rule can say "at least". An API key acts with the role
/// its scope grants (<see cref="ApiKeyScopes"/>): read as a viewer, write as a member, admin as an admin.
/// </summary>
public enum WorkspaceRole
{
    Viewer = 1,
    Member = 2,
    Admin = 3,
    Owner = 4,
}

public static class WorkspaceRoles
{
    public static string ToWire(this WorkspaceRole role) => role switch
    {
        WorkspaceRole.Viewer => "viewer",
        WorkspaceRole.Member => "member",
        WorkspaceRole.Admin => "admin",
        WorkspaceRole.Owner => "owner",
        _ => throw new ArgumentOutOfRangeException(nameof(role), role, null),
    };

    public static bool TryParse(string? value, out WorkspaceRole role)
    {
        role = value switch
        {
            "viewer" => WorkspaceRole.Viewer,
            "member" => WorkspaceRole.Member,
            "admin" => WorkspaceRole.Admin,
            "owner" => WorkspaceRole.Owner,
            _ => 0,
        };
        return role != 0;
    }

    public static WorkspaceRole Parse(string value) =>
        TryParse(value, out var role) ? role : throw new FormatException($"Unknown workspace role \"{value}\".");
}
