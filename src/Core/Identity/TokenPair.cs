namespace AgentCrm.Core.Identity;

/// <summary>What register, login and refresh answer with (OAuth-style field names).</summary>
public sealed record TokenPair(string AccessToken, string TokenType, int ExpiresIn, string RefreshToken, DateTimeOffset RefreshTokenExpiresAt, Guid UserId, Guid? WorkspaceId);
