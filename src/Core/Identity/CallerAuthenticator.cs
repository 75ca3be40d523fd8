using AgentCrm.Core.Platform.Security;
using AgentCrm.Core.Workspaces;
using Microsoft.AspNetCore.Http;

namespace AgentCrm.Core.Identity;

/// <summary>The outcome of reading a request's credentials: a caller, or why there is none.</summary>
public readonly record struct Authentication(Caller? Caller, WorkspaceAccess? KeyAccess, TokenFailure Failure);

/// <summary>
/// Reads the request's credentials: an API key (X-Api-Key, or a bearer value that is one), an access
/// token of ours (HS256, no I/O), or a token of a configured OIDC issuer (mapped to a user of ours).
/// </summary>
public sealed class CallerAuthenticator(
    AccessTokenCodec tokens,
    ExternalTokenValidator external,
    ApiKeyAuthenticator apiKeys,
    ExternalUsers externalUsers)
{
    public async Task<Authentication> AuthenticateAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        string? key = request.Headers.TryGetValue("X-Api-Key", out var header) ? header.ToString() : null;
        string? bearer = null;
        if (request.Headers.Authorization.ToString() is { Length: > 0 } authorization)
        {
            if (!authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) || authorization.Length == 7)
            {
                return new Authentication(null, null, TokenFailure.Malformed);
            }

            bearer = authorization[7..].Trim();
            if (key is null && ApiKeyFormat.LooksLikeKey(bearer))
            {
                (key, bearer) = (bearer, null);
            }
        }

        if (key is not null)
        {
            var access = await apiKeys.AuthenticateAsync(key, cancellationToken);
            return access is null
                ? new Authentication(null, null, TokenFailure.InvalidApiKey)
                : new Authentication(access.Caller, access, TokenFailure.None);
        }

        if (bearer is null)
        {
            return default;
        }

        if (tokens.IsOwnToken(bearer) || !external.HasIssuers)
        {
            var failure = tokens.Validate(bearer, out var claims);
            return failure == TokenFailure.None
                ? new Authentication(Caller.User(claims.UserId, claims.WorkspaceId, claims.SessionId, tokens.Issuer), null, TokenFailure.None)
                : new Authentication(null, null, failure);
        }

        var result = await external.ValidateAsync(bearer, cancellationToken);
        if (result.Identity is not { } identity)
        {
            return new Authentication(null, null, result.Failure);
        }

        var (userId, activeWorkspace) = await externalUsers.ResolveAsync(identity, cancellationToken);
        return new Authentication(Caller.User(userId, activeWorkspace, null, identity.Issuer), null, TokenFailure.None);
    }
}
