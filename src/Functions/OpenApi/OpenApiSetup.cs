using AgentCrm.Functions.Access;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace AgentCrm.Functions.OpenApi;

/// <summary>
/// /api/openapi/v1.json: every endpoint with its schemas and problem responses (from each endpoint's
/// Produces/ProducesProblem metadata), the two security schemes, and on each operation the schemes and
/// the role its row in <see cref="AccessRules"/> requires.
/// </summary>
public static class OpenApiSetup
{
    public const string BearerScheme = "bearer";
    public const string ApiKeyScheme = "apiKey";

    private static readonly (string Path, string Summary)[] HealthPaths =
    [
        ("/api/health/live", "The process serves (no I/O)."),
        ("/api/health/ready", "Ready for traffic: PostgreSQL, schema, background loops, not shutting down."),
        ("/api/health", "Every check with detail, for operators."),
    ];

    public static IServiceCollection AddApiDocument(this IServiceCollection services) =>
        services.AddOpenApi("v1", options =>
        {
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "AgentCrm API",
                    Version = "v1",
                    Description = "Multi-tenant CRM with AI agents. Errors are RFC 9457 problems (docs/errors.md).",
                };
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "An access token from /api/auth/login (or a configured OIDC issuer's), or a workspace API key.",
                };
                document.Components.SecuritySchemes[ApiKeyScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.ApiKey,
                    In = ParameterLocation.Header,
                    Name = "X-Api-Key",
                    Description = "A workspace API key: read acts as a viewer, write as a member, admin as an admin.",
                };
                // Health checks are not route handlers, so the generator does not see them: describe them here.
                foreach (var (path, summary) in HealthPaths)
                {
                    document.Paths[path] = new OpenApiPathItem
                    {
                        Operations = new Dictionary<HttpMethod, OpenApiOperation>
                        {
                            [HttpMethod.Get] = new()
                            {
                                Summary = summary,
                                Tags = new HashSet<OpenApiTagReference> { new("Health", document) },
                                Responses = new OpenApiResponses
                                {
                                    ["200"] = new OpenApiResponse { Description = "Healthy (or degraded)" },
                                    ["503"] = new OpenApiResponse { Description = "Unhealthy or shutting down" },
                                },
                            },
                        },
                    };
                }

                return Task.CompletedTask;
            });
            options.AddOperationTransformer((operation, context, _) =>
            {
                var description = context.Description;
                var rule = AccessRules.Find(description.HttpMethod ?? "GET", "/" + description.RelativePath);
                if (rule?.RatePolicy is { } policy)
                {
                    var limited = $"Over the \"{policy}\" rate limit (rate-limited) or the day's API calls (quota-exceeded): a problem, with Retry-After. " +
                        "Every answer carries RateLimit-Policy, RateLimit and X-RateLimit-Limit/-Remaining/-Reset (docs/errors.md).";
                    operation.Responses ??= [];
                    if (operation.Responses.TryGetValue("429", out var declared) && declared is OpenApiResponse response)
                    {
                        response.Description = $"{limited} {response.Description}";
                    }
                    else
                    {
                        operation.Responses["429"] = new OpenApiResponse { Description = limited };
                    }
                }

                if (rule is null || rule.Audience == Audience.Anonymous)
                {
                    return Task.CompletedTask;
                }

                operation.Security ??= [];
                operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, context.Document)] = [] });
                if (rule.ApiKeys)
                {
                    operation.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyScheme, context.Document)] = [] });
                }

                var who = rule.Audience == Audience.User ? "a signed-in user (not an API key)" : $"the {rule.MinRole.ToString().ToLowerInvariant()} role or higher in the workspace";
                operation.Description = (operation.Description is { Length: > 0 } existing ? existing + "\n\n" : string.Empty) + $"Requires {who}.";
                return Task.CompletedTask;
            });
        });

    public static void MapApiDocument(this IEndpointRouteBuilder app) =>
        app.MapOpenApi("/api/openapi/{documentName}.json");
}
