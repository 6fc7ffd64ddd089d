using System;
using System.Collections.Generic;
using System.Runtime.InteropServices;

namespace ReplyAdmin.Engine.Processing
{
    /// <summary>
    /// SIGTERM (kill, docker stop, a stopped service unit) ends a run as Ctrl+C does: at its next step, the lease given back.
    /// Otherwise the process would end at once and other hosts would wait out the lease's time to live.
    /// </summary>
    public static class TerminationSignals
    {
        /// <summary>
        /// Until disposed, the first SIGTERM (with <paramref name="interrupt"/> also SIGINT) calls <paramref name="stop"/>;
        /// one that comes once <paramref name="stopping"/> is true ends the process as without this handler.
        /// </summary>
        /// <returns>The registration; nothing is registered for a signal the platform does not have.</returns>
        public static IDisposable StopOn(Action stop, Func<bool> stopping, bool interrupt = false)
        {
            var registrations = new List<IDisposable>();
            foreach (var signal in interrupt ? new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT } : new[] { PosixSignal.SIGTERM })
            {
                try
                {
                    registrations.Add(PosixSignalRegistration.Create(signal, context =>
                    {
                        context.Cancel = !stopping();
                        stop();
                    }));
                }
                catch (PlatformNotSupportedException)
                {
                    // no such signal here: nothing to handle
                }
            }
            return new Registrations(registrations);
        }

        private sealed class Registrations : IDisposable
        {
            private readonly List<IDisposable> _items;

            public Registrations(List<IDisposable> items) => _items = items;

            public void Dispose() => _items.ForEach(r => r.Dispose());
        }
    }
}
