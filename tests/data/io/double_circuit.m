function mpc = double_circuit
% A 5-bus ring with a double circuit (rows 1 and 7, different cables) from the source that may
% not open (mpc.branch_switchable 0), and one tie (row 6, out of service).
mpc.version = '2';
mpc.baseMVA = 10;
%% bus_i type Pd Qd Gs Bs area Vm Va baseKV zone Vmax Vmin
mpc.bus = [
	1	3	0	0	0	0	1	1	0	12.66	1	1.1	0.9;
	2	1	0.3	0.1	0	0	1	1	0	12.66	1	1.1	0.9;
	3	1	0.5	0.25	0	0	1	1	0	12.66	1	1.1	0.9;
	4	1	0.8	0.4	0	0	1	1	0	12.66	1	1.1	0.9;
	5	1	0.9	0.5	0	0	1	1	0	12.66	1	1.1	0.9;
];
%% gen: bus Pg Qg Qmax Qmin Vg mBase status Pmax Pmin
mpc.gen = [
	1	0	0	10	-10	1.0	10	1	10	0;
];
%% branch: fbus tbus r x b rateA rateB rateC ratio angle status angmin angmax
mpc.branch = [
	1	2	0.0031	0.0025	0.0004	4	0	0	0	0	1	-360	360;
	2	3	0.005	0.0037	0	0	0	0	0	0	1	-360	360;
	3	4	0.0062	0.0044	0	0	0	0	0	0	1	-360	360;
	2	5	0.0056	0.005	0	0	0	0	0	0	1	-360	360;
	5	4	0.0075	0.0056	0	0	0	0	0	0	1	-360	360;
	3	5	0.0037	0.0031	0	0	0	0	0	0	0	-360	360;
	2	1	0.0045	0.0030	0.0002	3	0	0	0	0	1	-360	360;
];
mpc.branch_switchable = [0; 1; 1; 1; 1; 1; 0];
