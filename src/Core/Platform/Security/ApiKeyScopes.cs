namespace AgentCrm.Core.Platform.Security;

/// <summary>The scopes an API key may hold, and the role each lets it act with.</summary>
public static class ApiKeyScopes
{
    public const string Read = "read";
    public const string Write = "write";
    public const string Admin = "admin";

    public static IReadOnlyList<string> All { get; } = [Read, Write, Admin];

    /// <summary>The highest role the scopes grant: admin includes write, write includes read.</summary>
    public static WorkspaceRole RoleFor(IEnumerable<string> scopes)
    {
        var role = (WorkspaceRole)0;
        foreach (var scope in scopes)
        {
            var granted = scope switch
            {
                Admin => WorkspaceRole.Admin,
                Write => WorkspaceRole.Member,
                Read => WorkspaceRole.Viewer,
                _ => (WorkspaceRole)0,
            };
            role = granted > role ? granted : role;
        }

        return role;
    }
}
