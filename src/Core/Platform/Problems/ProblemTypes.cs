using Microsoft.AspNetCore.Http;

namespace AgentCrm.Core.Platform.Problems;

/// <summary>
/// Every problem type the API can answer with. docs/errors.md explains each one, and a test checks the
/// two agree, so a client can rely on <c>type</c> rather than parsing <c>detail</c>.
/// </summary>
public static class ProblemTypes
{
    public static readonly ProblemType BadRequest = new("bad-request", StatusCodes.Status400BadRequest, "The request is not valid");
    public static readonly ProblemType MalformedJson = new("malformed-json", StatusCodes.Status400BadRequest, "The request body is not valid JSON");
    public static readonly ProblemType Validation = new("validation", StatusCodes.Status400BadRequest, "One or more fields are invalid");
    public static readonly ProblemType Unauthorized = new("unauthorized", StatusCodes.Status401Unauthorized, "Authentication is required");
    public static readonly ProblemType Forbidden = new("forbidden", StatusCodes.Status403Forbidden, "You may not do this");
    public static readonly ProblemType NotFound = new("not-found", StatusCodes.Status404NotFound, "Not found");
    public static readonly ProblemType MethodNotAllowed = new("method-not-allowed", StatusCodes.Status405MethodNotAllowed, "Method not allowed");
    public static readonly ProblemType Conflict = new("conflict", StatusCodes.Status409Conflict, "Conflict");
    public static readonly ProblemType Gone = new("gone", StatusCodes.Status410Gone, "No longer available");
    public static readonly ProblemType PreconditionFailed = new("precondition-failed", StatusCodes.Status412PreconditionFailed, "Precondition failed");
    public static readonly ProblemType PayloadTooLarge = new("payload-too-large", StatusCodes.Status413PayloadTooLarge, "The request body is too large");
    public static readonly ProblemType UnsupportedMediaType = new("unsupported-media-type", StatusCodes.Status415UnsupportedMediaType, "Unsupported media type");
    public static readonly ProblemType Unprocessable = new("unprocessable", StatusCodes.Status422UnprocessableEntity, "The request cannot be processed");
    public static readonly ProblemType AccountLocked = new("account-locked", StatusCodes.Status429TooManyRequests, "The account is locked");
    public static readonly ProblemType RateLimited = new("rate-limited", StatusCodes.Status429TooManyRequests, "Too many requests");
    public static readonly ProblemType QuotaExceeded = new("quota-exceeded", StatusCodes.Status429TooManyRequests, "A daily quota is used up");
    public static readonly ProblemType TierLimitReached = new("tier-limit-reached", StatusCodes.Status403Forbidden, "The workspace's tier allows no more of these");
    public static readonly ProblemType Internal = new("internal", StatusCodes.Status500InternalServerError, "An unexpected error occurred");
    public static readonly ProblemType Unavailable = new("unavailable", StatusCodes.Status503ServiceUnavailable, "The service is unavailable");
    public static readonly ProblemType IdempotencyKeyInUse = new("idempotency-key-in-use", StatusCodes.Status409Conflict, "A request with this idempotency key is in progress");
    public static readonly ProblemType IdempotencyKeyReused = new("idempotency-key-reused", StatusCodes.Status422UnprocessableEntity, "The idempotency key was used for a different request");
    public static readonly ProblemType InvocationFailed = new("invocation-failed", StatusCodes.Status500InternalServerError, "The function invocation failed");

    public static IReadOnlyList<ProblemType> All { get; } =
    [
        BadRequest, MalformedJson, Validation, Unauthorized, Forbidden, NotFound, MethodNotAllowed, Conflict,
        Gone, PreconditionFailed, PayloadTooLarge, UnsupportedMediaType, Unprocessable, AccountLocked, RateLimited, Internal, Unavailable,
        InvocationFailed, IdempotencyKeyInUse, IdempotencyKeyReused, QuotaExceeded, TierLimitReached,
    ];

    /// <summary>The default type for a bare status code (a 404 from routing, a 405 from the method matcher).</summary>
    public static ProblemType ForStatus(int status) => status switch
    {
        401 => Unauthorized,
        403 => Forbidden,
        404 => NotFound,
        405 => MethodNotAllowed,
        409 => Conflict,
        410 => Gone,
        412 => PreconditionFailed,
        413 => PayloadTooLarge,
        415 => UnsupportedMediaType,
        422 => Unprocessable,
        429 => RateLimited,
        503 => Unavailable,
        >= 500 => Internal,
        _ => BadRequest,
    };
}
