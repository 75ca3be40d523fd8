using AgentCrm.Core.Platform.Problems;
using Microsoft.AspNetCore.Mvc;

namespace AgentCrm.Functions.CustomHandler;

/// <summary>
/// Maps POST /{FunctionName} for each host function. These paths sit outside /api, where the host never
/// forwards public traffic, so only the host can reach them. A non-2xx answer fails the invocation
/// (and the host retries or dead-letters per the trigger's rules).
/// </summary>
public static class HostFunctionEndpoints
{
    public static void MapHostFunctions(this IEndpointRouteBuilder app)
    {
        foreach (var function in HostFunctionCatalog.All)
        {
            var handler = (HostFunction)app.ServiceProvider.GetRequiredService(function.HandlerType);
            app.MapPost("/" + function.Name, async ([FromBody] HostInvocationRequest request, HttpContext context, CancellationToken cancellationToken) =>
            {
                var invocation = HostInvocation.Validate(function.Name, function.TriggerBinding, request,
                    context.Request.Headers["X-Azure-Functions-InvocationId"].FirstOrDefault());
                var result = await handler.InvokeAsync(invocation, cancellationToken);
                return result.Failed
                    ? Results.Problem(
                        detail: result.FailureDetail,
                        statusCode: ProblemTypes.InvocationFailed.Status,
                        title: ProblemTypes.InvocationFailed.Title,
                        type: ProblemTypes.InvocationFailed.Uri,
                        extensions: new Dictionary<string, object?> { ["logs"] = result.Logs })
                    : Results.Json(result);
            })
            .WithName("host:" + function.Name)
            .ExcludeFromDescription();
        }
    }
}
