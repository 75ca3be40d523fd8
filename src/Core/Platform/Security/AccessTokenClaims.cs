namespace AgentCrm.Core.Platform.Security;

/// <summary>What an access token this API issued says: the user, the active workspace, the login session.</summary>
public readonly record struct AccessTokenClaims(Guid UserId, Guid? WorkspaceId, Guid? SessionId, DateTimeOffset ExpiresAt);

/// <summary>Why a bearer token was refused; each is a 401 with this reason in the problem detail.</summary>
public enum TokenFailure
{
    None,
    Malformed,
    UnsupportedAlgorithm,
    UnknownKey,
    BadSignature,
    Expired,
    NotYetValid,
    WrongIssuer,
    WrongAudience,
    InvalidApiKey,
}

public static class TokenFailures
{
    public static string Describe(this TokenFailure failure) => failure switch
    {
        TokenFailure.Malformed => "The bearer token is malformed.",
        TokenFailure.UnsupportedAlgorithm => "The bearer token's algorithm is not accepted.",
        TokenFailure.UnknownKey => "The bearer token was signed by a key or issuer this API does not trust.",
        TokenFailure.BadSignature => "The bearer token's signature is invalid.",
        TokenFailure.Expired => "The bearer token has expired.",
        TokenFailure.NotYetValid => "The bearer token is not valid yet.",
        TokenFailure.WrongIssuer => "The bearer token's issuer is not accepted.",
        TokenFailure.WrongAudience => "The bearer token is not meant for this API (audience).",
        TokenFailure.InvalidApiKey => "The API key is not valid: malformed, unknown or revoked.",
        _ => "The bearer token is not valid.",
    };
}
