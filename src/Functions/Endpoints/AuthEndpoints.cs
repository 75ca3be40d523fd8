using AgentCrm.Core.Identity;
using AgentCrm.Core.Platform.Security;
using Microsoft.AspNetCore.Mvc;

namespace AgentCrm.Functions.Endpoints;

public sealed record RefreshRequest(string? RefreshToken);

/// <summary>Register, login, refresh, logout, and who am I. Rules: <see cref="Access.AccessRules"/>.</summary>
public static class AuthEndpoints
{
    public static void MapAuthEndpoints(this IEndpointRouteBuilder app)
    {
        var auth = app.MapGroup("/api/auth").WithTags("Auth");
        auth.MapPost("/register", async ([FromBody] RegisterRequest request, AccountService accounts, HttpContext context, CancellationToken cancellationToken) =>
                Results.Json(await accounts.RegisterAsync(request, context.Origin(), cancellationToken), statusCode: StatusCodes.Status201Created))
            .WithName("Register").Produces<TokenPair>(StatusCodes.Status201Created).ProducesProblem(400).ProducesProblem(409);

        auth.MapPost("/login", async ([FromBody] LoginRequest request, AccountService accounts, HttpContext context, CancellationToken cancellationToken) =>
                Results.Ok(await accounts.LoginAsync(request, context.Origin(), cancellationToken)))
            .WithName("Login").Produces<TokenPair>().ProducesProblem(401).ProducesProblem(429);

        auth.MapPost("/refresh", async ([FromBody] RefreshRequest request, SessionTokens sessions, CancellationToken cancellationToken) =>
                Results.Ok(await sessions.RefreshAsync(request.RefreshToken ?? string.Empty, cancellationToken)))
            .WithName("Refresh").Produces<TokenPair>().ProducesProblem(401);

        auth.MapPost("/logout", async (Caller caller, AccountService accounts, HttpContext context, CancellationToken cancellationToken) =>
            {
                await accounts.LogoutAsync(caller, context.Origin(), cancellationToken);
                return Results.NoContent();
            })
            .WithName("Logout").Produces(StatusCodes.Status204NoContent).ProducesProblem(401);

        app.MapGet("/api/me", async (Caller caller, AccountService accounts, CancellationToken cancellationToken) =>
                Results.Ok(await accounts.MeAsync(caller, cancellationToken)))
            .WithTags("Auth").WithName("GetMe").Produces<UserView>().ProducesProblem(401);
    }
}
