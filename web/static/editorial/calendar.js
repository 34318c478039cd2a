/* The scheduling calendar (scheduler/calendar.html): EventCalendar (vendor/event-calendar, MIT) in month, week,
   day and list views, each delivery with its channel's icon and colour. A delivery not yet out can be dragged to
   another day or time: the move is sent to /admin/deliveries/ID/move (the same reschedule and checks as the
   delivery's form, CSRF header); a refused move goes back where it was and says why. Times are the organisation's
   wall-clock times: events come without offset and the calendar runs at the organisation's offset. */
(function () {
  "use strict";

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  /* "YYYY-MM-DDTHH:MM" moved by an EventCalendar Duration ({years, months, days, seconds}). */
  function shift(wall, delta) {
    var m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(wall);
    if (!m) { return null; }
    var months = (+m[2] - 1) + (delta.years || 0) * 12 + (delta.months || 0);
    var t = Date.UTC(+m[1], months, +m[3] + (delta.days || 0), +m[4], +m[5]) + (delta.seconds || 0) * 1000;
    var d = new Date(t);
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + "T" +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes());
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text) { node.textContent = text; }
    return node;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var holder = document.getElementById("calendar");
    var optionsNode = document.getElementById("calendar-options");
    if (!holder || !optionsNode || !window.EventCalendar) { return; }  // the table stays
    var opts = JSON.parse(optionsNode.textContent);
    var texts = opts.texts;
    var status = document.getElementById("calendar-status");
    var phone = window.matchMedia("(max-width: 760px)").matches;

    function say(message, ok) {
      status.textContent = message;
      status.className = "flash " + (ok ? "flash-success" : "flash-error");
      status.setAttribute("role", ok ? "status" : "alert");
      status.hidden = false;
    }

    function content(info) {
      var p = info.event.extendedProps;
      var box = el("span", "ev kind-" + p.kind);
      var icon = el("span", "channel-icon kind-" + p.kind, p.icon);
      icon.setAttribute("aria-hidden", "true");
      box.appendChild(icon);
      box.appendChild(el("span", "visually-hidden", p.label + " · " + p.channel + ": "));
      if (info.timeText) { box.appendChild(el("span", "ev-time", info.timeText)); }
      box.appendChild(el("span", "ev-title", info.event.title));
      box.appendChild(el("span", "ev-mark", p.stateLabel));
      if (p.problem) {  // why it has not gone out, in Loa's words: on hover, and read out after the state
        box.title = p.problem;
        box.appendChild(el("span", "visually-hidden", " " + p.problem));
      }
      return {domNodes: [box]};
    }

    document.body.classList.add("calendar-js");
    holder.hidden = false;
    var calendar = window.EventCalendar.create(holder, {
      view: phone && opts.view === "timeGridWeek" ? "listWeek" : opts.view,
      date: opts.date,
      timeZone: opts.timeZone,
      locale: opts.locale === "en" ? "en-GB" : "vi-VN",
      firstDay: 1,
      // times as every other page writes them (Babel's HH:mm): 08:30, not 8:30
      eventTimeFormat: {hour: "2-digit", minute: "2-digit", hour12: false},
      slotLabelFormat: {hour: "2-digit", minute: "2-digit", hour12: false},
      height: "auto",
      nowIndicator: true,
      dayMaxEvents: phone ? 2 : 4,
      // the whole day: a post scheduled at 02:00 must show in the week and day views too
      slotMinTime: "00:00",
      slotMaxTime: "24:00",
      scrollTime: "07:00",
      eventDurationEditable: false,
      eventStartEditable: opts.canMove,
      headerToolbar: phone
        ? {start: "prev,next today", center: "title", end: "dayGridMonth,listWeek,timeGridDay"}
        : {start: "prev,next today", center: "title", end: "dayGridMonth,timeGridWeek,timeGridDay,listWeek"},
      buttonText: function (text) {
        return Object.assign({}, text, {today: texts.today, dayGridMonth: texts.month, timeGridWeek: texts.week,
          timeGridDay: texts.day, listWeek: texts.list, prev: texts.prev, next: texts.next});
      },
      allDayContent: texts.allDay,
      noEventsContent: texts.noEvents,
      eventSources: [{
        url: opts.eventsUrl,
        extraParams: opts.channelId ? {channel_id: opts.channelId} : {}
      }],
      eventClassNames: function (info) {
        return info.event.startEditable ? ["movable"] : [];
      },
      eventContent: content,
      eventClick: function (info) {
        if (info.event.extendedProps.url) { window.location.href = info.event.extendedProps.url; }
      },
      eventDrop: function (info) {
        var p = info.event.extendedProps;
        var at = shift(p.at, info.delta);
        if (!at) { info.revert(); say(texts.failed, false); return; }
        say(texts.moving, true);
        window.Loa.postJSON(p.moveUrl, {at: at}).then(function (answer) {
          if (answer.status === 200 && answer.body) {
            p.at = answer.body.event.extendedProps.at;
            say(answer.body.message, true);
            calendar.refetchEvents();
          } else {
            info.revert();
            say(answer.body && answer.body.error ? answer.body.error.message : texts.failed, false);
          }
        }, function () {
          info.revert();
          say(texts.failed, false);
        });
      }
    });
    window.Loa.calendar = calendar;

    /* EventCalendar 5.10.1 says role="table" on its whole box (toolbar included), role="cell" on the days, but puts
       the body's days in a plain <div> with no row and the events, which are buttons, beside the cells rather than in
       them: a table no assistive technology can walk (axe-core: aria-required-children, aria-required-parent). Its
       table roles are taken off, again whenever it redraws; what remains reads in order: each day's heading (a
       <time>) and the events as buttons, whose hidden text names the channel, the time, the title and the state. */
    var TABLE_ROLES = ["table", "rowgroup", "row", "rowheader", "columnheader", "cell"];
    var TABLE_ATTRIBUTES = ["aria-colindex", "aria-colspan", "aria-rowindex", "aria-rowspan", "aria-colcount",
                            "aria-rowcount"];
    function mendRoles() {
      holder.querySelectorAll(["role"].concat(TABLE_ATTRIBUTES).map(function (a) { return "[" + a + "]"; }).join(", "))
        .forEach(function (node) {
          if (node.hasAttribute("role") && TABLE_ROLES.indexOf(node.getAttribute("role")) === -1) { return; }
          node.removeAttribute("role");
          TABLE_ATTRIBUTES.forEach(function (name) { node.removeAttribute(name); });
        });
    }
    new MutationObserver(mendRoles).observe(holder, {childList: true, subtree: true, attributes: true,
                                                     attributeFilter: ["role"].concat(TABLE_ATTRIBUTES)});
    mendRoles();
  });
})();
